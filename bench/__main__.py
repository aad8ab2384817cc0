"""`python -m bench [NAME [ARGS...]]`: run bench/NAME.py's main() (all benchmarks when no NAME)."""

import importlib
import pkgutil
import sys
from pathlib import Path


def available() -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.iter_modules([str(Path(__file__).parent)])
        if not info.name.startswith("_")
    )


def run(name: str, args: list[str]) -> int:
    module = importlib.import_module(f"bench.{name}")
    sys.argv = [f"bench {name}", *args]
    return module.main() or 0


def main() -> int:
    names = available()
    if len(sys.argv) > 1 and sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip() + "\n\nBenchmarks: " + ", ".join(names))
        return 0
    if len(sys.argv) > 1:
        name = sys.argv[1]
        if name not in names:
            print(f"No benchmark {name!r}. Benchmarks: {', '.join(names)}", file=sys.stderr)
            return 2
        return run(name, sys.argv[2:])
    worst = 0
    for name in names:
        print(f"\n=== bench {name} ===", flush=True)
        worst = max(worst, run(name, []))
    return worst


if __name__ == "__main__":
    sys.exit(main())
