"""Every colour key under a map over the photo names its two ends, and writes them apart: a map
whose weights are nearly even (an untrained CLIP pooling head: 1.999 % to 2.000 %) once had a key
"from 2.00 % to 2.00 %", which says the colours mean nothing while they stretch real differences."""

import re

import pytest
from conftest import assert_ok, open_page
from tr_expected import captions

KEY = re.compile(r"Colour: from (\S+) \(the photo shows through\) to (\S+) \(yellow\)")


@pytest.mark.parametrize("page", ["tr_attention", "tr_clip", "tr_compare"])
def test_each_colour_key_writes_two_different_ends(page):
    at = open_page(f"pages/{page}.py")
    assert_ok(at)
    ends = KEY.findall(captions(at))
    assert ends, "no colour key on the page"
    assert all(lo != hi for lo, hi in ends), ends
