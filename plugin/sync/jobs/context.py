"""What every job runner gets handed."""
from dataclasses import dataclass

from plugin.configuration.models import BasicConfiguration, StoreConnection

from ..models import SyncRun


class PrerequisiteMissing(Exception):
    """The job cannot start: the message says what staff must do first."""


@dataclass
class JobContext:
    run: SyncRun
    store: StoreConnection
    config: BasicConfiguration
    client: object  # plugin.bigcommerce.client.BigCommerceClient
    gateway: object  # plugin.intellitrack.gateway.IntelliTrackGateway
    lock: object = None  # plugin.sync.locks.JobLock

    @property
    def division_code(self) -> str:
        return self.config.default_division.code
