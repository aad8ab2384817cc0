from types import SimpleNamespace

import pytest

from .factories import DivisionFactory, ItemFactory, LocationFactory, SiteFactory, UOMFactory


@pytest.fixture
def place(db):
    """One division with two sites (S1: A and B, S2: C), EA and CS units and one active item."""
    division = DivisionFactory(code="D1")
    site1 = SiteFactory(division=division, code="S1")
    site2 = SiteFactory(division=division, code="S2")
    ea = UOMFactory(division=division, code="EA", each_count=1)
    cs = UOMFactory(division=division, code="CS", name="Case", each_count=12)
    return SimpleNamespace(
        division=division,
        site1=site1,
        site2=site2,
        loc_a=LocationFactory(site=site1, code="A"),
        loc_b=LocationFactory(site=site1, code="B"),
        loc_c=LocationFactory(site=site2, code="C"),
        ea=ea,
        cs=cs,
        item=ItemFactory(division=division, item_number="WIDGET", default_uom=ea),
    )
