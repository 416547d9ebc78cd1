"""One card per segment of the chosen method: size, value, behaviour, mix and the action."""

from __future__ import annotations

import pandas as pd

from etl.report.html import change, esc, num, pct

MIX_DIMENSIONS = 3  # dimensions shown per source (demographic, channel), most varied first


def _row(label: str, value: str, field: str = "") -> str:
    attr = f' data-field="{field}"' if field else ""
    return f"<dt>{esc(label)}</dt><dd{attr}>{value}</dd>"


def _mix(mixes: pd.DataFrame, segment: str, source: str) -> str:
    mine = mixes[(mixes["segment"] == segment) & (mixes["source"] == source)]
    if mine.empty:
        return ""
    # dimensions where the segment differs most from all customers come first
    spread = mine.groupby("dimension")["index_vs_all"].apply(lambda s: (s - 100).abs().max())
    parts = []
    for dimension in spread.sort_values(ascending=False).index[:MIX_DIMENSIONS]:
        rows = mine[mine["dimension"] == dimension].sort_values("rank_by_share")
        values = ", ".join(
            f"{esc(str(v))} {pct(s, 0)}" for v, s in zip(rows["value"], rows["share"], strict=True)
        )
        parts.append(f"{esc(str(dimension))}: {values}")
    return "<br>".join(parts)


UNKNOWN = "unknown"  # the category of products without one (mart.invoice_segment_category_lift)


def _categories(data, seg: str, by_sales: object) -> tuple[str, str]:
    """Top categories by lift; without categories in the data, the top products instead."""
    lift = data.lift[(data.lift["segment"] == seg) & (data.lift["category"] != UNKNOWN)]
    if not lift.empty:
        pairs = zip(lift["category"], lift["lift"], strict=True)
        return ", ".join(
            f"{esc(str(c))} (lift {v:.2f})" for c, v in pairs
        ), "Top categories by lift"
    products = data.top_products[data.top_products["segment"] == seg]
    if not products.empty and (by_sales is None or str(by_sales) in ("", UNKNOWN)):
        return esc("; ".join(map(str, products["product"]))), "Top products by revenue"
    return esc(str(by_sales or "n/a")), "Top categories by sales"


def render(data, colors: dict[str, str]) -> str:  # data: ReportData
    run_id = int(data.run["run_id"])
    prof = data.profiles[data.profiles["method"] == data.method]
    now = prof[prof["run_id"] == run_id].sort_values("customers", ascending=False)
    if now.empty:
        return f"<h2>Segments</h2><p>The {esc(data.method)} method did not run in this run.</p>"
    before = prof[prof["run_id"] != run_id].set_index("segment")
    cards = []
    for row in now.itertuples(index=False):
        seg = str(row.segment)
        prev = before.loc[seg] if seg in before.index else None
        categories, cat_label = _categories(data, seg, row.top_categories)

        def was(column: str, prev=prev):
            return None if prev is None else prev[column]

        size = f"{num(row.customers)}{change(row.customers, was('customers'))}"
        share = (
            f"{pct(row.customer_share)}{change(row.customer_share, was('customer_share'), 'pts')}"
        )
        rev_share = (
            f"{pct(row.revenue_share)}{change(row.revenue_share, was('revenue_share'), 'pts')}"
        )
        rows = [
            _row("Customers", size, "customers"),
            _row("Share of customers", share, "customer_share"),
            _row("Net revenue", num(row.revenue), "revenue"),
            _row("Share of revenue", rev_share, "revenue_share"),
        ]
        if pd.notna(row.avg_clv):
            rows.append(_row("Mean predicted CLV (12 months)", num(row.avg_clv, 2), "avg_clv"))
        if pd.notna(row.avg_p_alive):
            rows.append(_row("Mean p_alive", num(row.avg_p_alive, 2), "avg_p_alive"))
        rows += [
            _row(
                "Recency (mean days since last order)",
                num(row.avg_recency_days, 1),
                "avg_recency_days",
            ),
            _row("Frequency (mean orders)", num(row.avg_frequency, 2), "avg_frequency"),
            _row("Monetary (mean net revenue)", num(row.avg_monetary, 2), "avg_monetary"),
            _row(cat_label, categories, "categories"),
        ]
        for source, label in (("demographic", "Demographic mix"), ("channel", "Channel mix")):
            mix = _mix(data.mixes, seg, source)
            if mix:
                rows.append(_row(label, mix, source))
        action = esc(str(row.recommended_action or ""))
        cards.append(
            f'<section class="card" data-segment="{esc(seg)}" '
            f'style="--seg:{colors.get(seg, "#888")}">'
            f"<h3>{esc(seg)}</h3><dl>{''.join(rows)}</dl>"
            f'<div class="action"><b>Recommended action:</b> '
            f'<span data-field="action">{action}</span></div>'
            "</section>"
        )
    return (
        f"<h2>Segments ({esc(data.method)})</h2>"
        f'<p class="note">Changes are against the previous published run; shares in points.</p>'
        f"<div class='cards'>{''.join(cards)}</div>"
    )
