"""Export adjustments (IntelliTrack -> BigCommerce, intraday): see adjustments_export_run."""
from .context import JobContext


def adjustments_export_run(ctx: JobContext) -> dict:
    raise NotImplementedError("The adjustment export is being built.")
