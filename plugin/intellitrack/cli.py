"""`manage.py itbc seed-demo`: demo master data for a fresh installation (used by `make run`)."""

from .services import DEMO_DIVISION, demo_master_data_ensure


def register(subparsers, command):
    seed = subparsers.add_parser(
        "seed-demo",
        help=f"Create the demo IntelliTrack master data (division {DEMO_DIVISION[0]}, sites, locations, "
        "units, carriers, a customer) where missing. Safe to run again.",
    )
    seed.set_defaults(handler=handle_seed_demo)


def handle_seed_demo(command, options) -> int:
    created = demo_master_data_ensure()
    made = ", ".join(f"{count} {kind}" for kind, count in created.items() if count)
    command.stdout.write(
        f"Demo master data in division {DEMO_DIVISION[0]}: "
        + (f"created {made}." if made else "already present.")
    )
    return 0
