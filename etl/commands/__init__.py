"""One module per `segwise` command group; each exposes ``register(subparsers)``."""
