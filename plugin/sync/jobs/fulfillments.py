"""Export fulfillments (IntelliTrack -> BigCommerce): see fulfillments_export_run."""
from .context import JobContext


def fulfillments_export_run(ctx: JobContext) -> dict:
    raise NotImplementedError("The fulfillment export is being built.")
