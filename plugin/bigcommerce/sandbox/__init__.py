"""The sandbox store: a stateful BigCommerce simulator over real HTTP, for tests, demos and benchmarks."""
from .faults import FaultConfig
from .generator import generate
from .server import SandboxServer
from .state import SandboxError, StoreState

__all__ = ["FaultConfig", "SandboxError", "SandboxServer", "StoreState", "generate"]
