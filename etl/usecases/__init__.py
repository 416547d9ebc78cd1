"""The analysts' use cases (docs/use-cases.md): settings, customer-level clustering, report."""
