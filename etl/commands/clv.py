"""`segwise clv backtest`: how well the customer-value model predicts a holdout period."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from etl.commands.common import add_database_option, resolve_database_url
from etl.commands.run import _date


def register(subparsers: argparse._SubParsersAction) -> None:
    clv = subparsers.add_parser(
        "clv",
        help="customer value (BG/NBD, Gamma-Gamma) tools",
        description="Customer lifetime value tools (docs/clv.md).",
    )
    sub = clv.add_subparsers(dest="clv_command", required=True, metavar="COMMAND")
    bt = sub.add_parser(
        "backtest",
        help="fit on a calibration period and compare with the holdout's actual purchases",
        description="Fit BG/NBD and Gamma-Gamma on purchases up to --calibration-end, predict "
        "each customer's purchases in (calibration-end, holdout-end] and compare with what they "
        "actually bought: by number of calibration repeat purchases (0 .. 7+) and the mean "
        "absolute error per customer.",
    )
    add_database_option(bt)
    bt.add_argument("--calibration-end", required=True, type=_date, metavar="YYYY-MM-DD")
    bt.add_argument("--holdout-end", required=True, type=_date, metavar="YYYY-MM-DD")
    bt.add_argument("--time-unit", choices=("day", "week"), default="week")
    bt.add_argument("--json", action="store_true", help="print the result as JSON")
    bt.add_argument("--per-customer", metavar="CSV", help="write per-customer results here")
    bt.add_argument("--chart", metavar="PNG", help="write the predicted-vs-actual chart here")
    bt.set_defaults(func=_backtest)


def _backtest(args: argparse.Namespace) -> int:
    from etl.segment.clv_run import run_backtest

    result = run_backtest(
        resolve_database_url(args), args.calibration_end, args.holdout_end, args.time_unit
    )
    per_customer = result.pop("per_customer")
    if args.per_customer:
        per_customer.to_csv(args.per_customer, index=False)
    if args.chart:
        from etl.segment.clv_chart import backtest_png

        Path(args.chart).write_bytes(backtest_png(result))
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    bg, gg, h = result["bgnbd"], result["gamma_gamma"], result["holdout"]
    print(
        f"calibration to {result['calibration_end']}, holdout to {result['holdout_end']} "
        f"({h['horizon']:.1f} {result['time_unit']}s)"
    )
    print(f"customers {result['customers']:,}, repeat customers {result['repeat_customers']:,}")
    print(
        f"BG/NBD r={bg['r']:.4g} alpha={bg['alpha']:.4g} a={bg['a']:.4g} b={bg['b']:.4g} "
        f"log-likelihood {bg['log_likelihood']:.1f}"
    )
    print(f"Gamma-Gamma p={gg['p']:.4g} q={gg['q']:.4g} v={gg['v']:.4g}")
    print(f"{'repeat purchases':>16} {'customers':>10} {'actual':>8} {'predicted':>10}")
    for g in h["by_calibration_purchases"]:
        print(
            f"{g['purchases']:>16} {g['customers']:>10,} {g['actual_mean']:>8.3f} "
            f"{g['predicted_mean']:>10.3f}"
        )
    print(
        f"holdout purchases: actual {h['actual_total']:,.0f}, predicted "
        f"{h['predicted_total']:,.1f}; mean absolute error {h['mean_absolute_error']:.3f} "
        "per customer"
    )
    return 0
