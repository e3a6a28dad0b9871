"""The release decoder and the object mappers under hypothesis (#19 item 8): no input crashes them.

Each input is a real object of a kind kgrca maps (tests/fuzzing.py seeds) with one to three fields replaced by
values of the wrong type, deleted, wrapped in a list or map, or turned into strings. The only way out allowed is
PermanentError with a message, and a row that comes out must hold only values Neo4j stores. Bounded for CI (a few
seconds a target, ``derandomize`` so every run tries the same inputs); bench/fuzz_mappers.py runs the long campaign.
"""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kgrca.contracts import PermanentError
from tests import fuzzing as fz

SEEDS = dict(fz.seeds())
BOUNDED = settings(max_examples=150, derandomize=True, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=16)
           | st.sampled_from(fz.SPECIAL).map(copy.deepcopy))
json_values = st.recursive(scalars, lambda children: st.lists(children, max_size=3)
                           | st.dictionaries(st.sampled_from(["name", "kind", "uid", "type", "status", "x", ""]),
                                             children, max_size=3), max_leaves=6)


@st.composite
def mutated(draw: st.DrawFn, seed: Any) -> Any:
    obj = copy.deepcopy(seed)
    for _ in range(draw(st.integers(1, 3))):
        found = list(fz.paths(obj))
        if not found:
            break
        path = found[draw(st.integers(0, len(found) - 1))]
        fz.mutate(obj, path, draw(st.sampled_from(fz.ACTIONS)), draw(json_values))
    return obj


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_every_seed_maps_without_a_rejection(name):
    """The seeds are good objects: a fuzz run that only hit the validator would prove nothing of the mappers."""
    assert fz.check(fz.map_object, SEEDS[name]) is None
    assert fz.map_object(copy.deepcopy(SEEDS[name]))


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_object_mappers_never_crash(name):
    @BOUNDED
    @given(mutated(SEEDS[name]))
    def run(obj: Any) -> None:
        assert fz.check(fz.map_object, obj) is None

    run()


@BOUNDED
@given(mutated(fz.release_seed()), st.sampled_from(["Secret", "ConfigMap"]))
def test_release_decoder_never_crashes(release, kind):
    obj = fz.release_object(release, kind)
    assert fz.check(fz.read_release, obj) is None
    assert fz.check(fz.map_object, obj) is None


@BOUNDED
@given(st.sampled_from(["Secret:helm", "ConfigMap:helm"]).flatmap(lambda name: mutated(SEEDS[name])))
def test_release_decoder_never_crashes_on_a_mutated_storage_object(obj):
    assert fz.check(fz.read_release, obj) is None


@BOUNDED
@given(st.one_of(st.binary(max_size=64).map(lambda raw: base64.b64encode(raw).decode()), st.text(max_size=64),
                 json_values))
def test_release_decoder_never_crashes_on_any_data(data):
    secret = fz.release_object(fz.release_seed())
    secret["data"]["release"] = data
    assert fz.check(fz.read_release, secret) is None
    assert fz.check(fz.map_object, secret) is None


@BOUNDED
@given(mutated(fz.process_seed()))
def test_process_record_mapper_never_crashes(record):
    assert fz.check(fz.map_process, record) is None


def test_the_process_seed_maps_without_a_rejection():
    assert fz.check(fz.map_process, fz.process_seed()) is None
    assert fz.map_process(fz.process_seed())


def test_a_wrong_typed_release_field_is_one_named_rejection():
    release = fz.release_seed()
    release["hooks"][0]["last_run"] = "Succeeded"
    with pytest.raises(PermanentError, match=r"release field hooks\[0\]\.last_run: expected an object, got the "
                                             r"string 'Succeeded'"):
        fz.read_release(fz.release_object(release))
