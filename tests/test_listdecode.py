"""LIST pages decoded: the same objects and resourceVersion as a plain parse,
managedFields gone, for both layouts the API server writes; dict keys shared."""

from __future__ import annotations

import gc

import orjson
import pytest

from kubectl_certdoctor.cluster.listdecode import decode_list, list_resource_version

ITEM = {"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
        "metadata": {"name": "a", "namespace": "n", "resourceVersion": "17",
                     "labels": {"x": "y"},
                     "managedFields": [{"fieldsV1": {"f:spec": {"k:{\"a\":1}": {}}}}]},
        "spec": {"dnsNames": ["a.test"], "duration": 1.5}}
BARE = {"metadata": {"name": "b", "resourceVersion": "18"}, "spec": {"x": []}}


def crd_list(items: list[object]) -> bytes:  # what the API server writes for CRDs
    return orjson.dumps({"apiVersion": "cert-manager.io/v1", "items": items,
                         "kind": "CertificateList",
                         "metadata": {"continue": "", "resourceVersion": "44"}})


def builtin_list(items: list[object]) -> bytes:  # struct order for built-in kinds
    return (b'{"kind":"ServiceList","apiVersion":"v1","metadata":{"resourceVersion":"45"},'
            b'"items":' + orjson.dumps(items) + b"}\n")


@pytest.mark.parametrize(("make", "rv"), [(crd_list, "44"), (builtin_list, "45")])
def test_same_objects_and_version_as_a_plain_parse(make: object, rv: str) -> None:
    for items in ([ITEM, BARE], [BARE, ITEM], [BARE], []):
        raw = make(items)  # type: ignore[operator]
        objs, got = decode_list(raw, "Certificate", "cert-manager.io/v1")
        assert got == rv == orjson.loads(raw)["metadata"]["resourceVersion"]
        want = orjson.loads(raw)["items"]
        for w in want:
            w["metadata"].pop("managedFields", None)
            w["kind"], w["apiVersion"] = "Certificate", "cert-manager.io/v1"
        assert objs == want


def test_an_item_whose_metadata_looks_like_the_lists_is_not_taken_for_it() -> None:
    raw = crd_list([BARE])  # its first "metadata" is the item's, scalars only
    assert list_resource_version(raw) == "44"
    odd = (b'{"items":[{"metadata":{"resourceVersion":"1"}}],'
           b'"metadata":{"resourceVersion":"9"},"x":1}')
    assert list_resource_version(odd) == "9"  # neither layout: the full pass decides


def test_collector_restored_and_errors_surface() -> None:
    assert gc.isenabled()
    with pytest.raises(ValueError):  # orjson.JSONDecodeError is one
        decode_list(b'{"items":[{"metadata":', "Certificate", "v1")
    with pytest.raises(ValueError):
        decode_list(b'[1, 2]', "Certificate", "v1")
    assert gc.isenabled()


def test_repeated_keys_are_one_string() -> None:
    """What keeps the store small: every item's "metadata" key is the same object."""
    objs, _ = decode_list(crd_list([ITEM, BARE, ITEM]), "Certificate", "v1")
    keys = [next(k for k in o if k == "metadata") for o in objs]
    assert keys[0] is keys[1] is keys[2]


def test_repeated_short_values_are_one_string_but_own_names_are_not_shared() -> None:
    a = {**ITEM, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    b = {**BARE, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    objs, _ = decode_list(crd_list([a, b]), "Certificate", "v1")
    ca, cb = (o["status"]["conditions"][0] for o in objs)
    assert ca["status"] is cb["status"] and ca["type"] is cb["type"]
    assert objs[0]["metadata"]["name"] == "a" and objs[1]["metadata"]["name"] == "b"
    assert objs == [{**a, "kind": "Certificate", "apiVersion": "v1",
                     "metadata": {k: v for k, v in ITEM["metadata"].items()  # type: ignore[attr-defined]
                                  if k != "managedFields"}},
                    {**b, "kind": "Certificate", "apiVersion": "v1"}]
