"""Import carriers (BigCommerce -> IntelliTrack): the shipment providers and the store's shipping methods
(per shipping zone) become IntelliTrack carriers with shipping methods. Rerunning adds what is new."""
from plugin.intellitrack.gateway import CarrierData

from .. import runs
from ..mappers import shipping_to_carriers
from ..models import SyncRunItem
from .context import JobContext


def carriers_import_run(ctx: JobContext) -> dict:
    zones = ctx.client.list_shipping_zones()
    zones_with_methods = []
    for zone in zones:
        zones_with_methods.append((zone, ctx.client.list_shipping_methods(zone["id"])))
        runs.run_heartbeat(run=ctx.run, lock=ctx.lock)
    carriers = shipping_to_carriers(zones_with_methods)
    runs.run_set_total(run=ctx.run, total=len(carriers))
    before = {c.name: {m.name for m in c.methods} for c in ctx.gateway.carriers(ctx.division_code)}
    ids = ctx.gateway.carriers_upsert(
        ctx.division_code, [CarrierData(name=c.name, methods=c.methods) for c in carriers]
    )
    outcomes = []
    for carrier in carriers:
        detail = {"ref": carrier.name, "methods": [name for name, _ in carrier.methods]}
        if carrier.name not in ids:
            outcomes.append(runs.ItemOutcome(key=carrier.name, outcome=SyncRunItem.Outcome.FAILED, action="carrier",
                                             reason="IntelliTrack did not take this carrier.", detail=detail))
            continue
        known = before.get(carrier.name)
        new_methods = [name for name, _ in carrier.methods if known is None or name not in known]
        action = "created" if known is None else ("updated" if new_methods else "unchanged")
        reason = f"{len(carrier.methods)} shipping method(s) in the store, {len(new_methods)} new."
        outcomes.append(runs.ItemOutcome(key=carrier.name, outcome=SyncRunItem.Outcome.OK, action=action,
                                         reason=reason, detail=detail))
    runs.run_items_record(run=ctx.run, outcomes=outcomes, lock=ctx.lock)
    return {"zones": len(zones), "carriers": len(carriers)}
