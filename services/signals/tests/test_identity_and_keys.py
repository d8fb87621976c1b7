from datetime import date

import pytest
from cryptography.exceptions import InvalidTag

from signals_service.domain.identity import PersonIdentity, normalise_text
from signals_service.keyring import Keyring
from signals_service.settings import DEVELOPMENT_ENCRYPTION_KEY

BIRTH = date(2014, 5, 17)


def test_names_compare_without_case_spaces_punctuation_or_diacritics():
    assert normalise_text("Özil-Bakker ") == normalise_text("ozil bakker") == "ozilbakker"
    assert normalise_text("Zoë") == normalise_text("ZOE")


def test_the_same_person_written_differently_has_the_same_keys():
    a = PersonIdentity(
        BIRTH, given_name="Zoë", family_name="van Oefening", postcode="3117 ab", house_number="12 A"
    )
    b = PersonIdentity(
        BIRTH, given_name="ZOE", family_name="Van  Oefening", postcode="3117AB", house_number="12a"
    )
    assert a.matching_keys() == b.matching_keys()
    assert a.address_key() == b.address_key()


def test_keys_of_a_bsn_and_of_name_and_address():
    person = PersonIdentity(
        BIRTH,
        bsn="999990019",
        given_name="Sam",
        family_name="Voorbeeld",
        postcode="3117AB",
        house_number="1",
    )
    keys = person.matching_keys()
    assert keys[0] == "bsn:999990019"
    assert keys[1].startswith("npa:sam|voorbeeld|2014-05-17|3117AB|1")
    assert PersonIdentity(BIRTH, bsn="999990019").matching_keys() == ["bsn:999990019"]


def keyring(secret: str = "p" * 40) -> Keyring:
    return Keyring(secret, DEVELOPMENT_ENCRYPTION_KEY)


def test_pseudonyms_are_keyed_stable_and_shaped():
    assert keyring().pseudonym("person-1") == keyring().pseudonym("person-1")
    assert keyring().pseudonym("person-1") != keyring("q" * 40).pseudonym("person-1")
    assert keyring().pseudonym("person-1").startswith("ps-") and len(keyring().pseudonym("x")) == 35


def test_lookup_hashes_differ_from_pseudonyms_and_hide_the_bsn():
    ring = keyring()
    lookup = ring.lookup_hash("bsn:999990019")
    assert "999990019" not in lookup and lookup.startswith("k1:")
    assert lookup.split(":")[1][:32] != ring.pseudonym("bsn:999990019")[3:]


def test_encryption_round_trips_and_is_bound_to_the_person():
    ring = keyring()
    data_key, wrapped = ring.new_data_key("person-1")
    sealed = ring.encrypt(ring.unwrap(wrapped, "person-1"), b"Synthetische tekst", "person-1")
    assert b"Synthetische" not in sealed
    assert ring.decrypt(data_key, sealed, "person-1") == b"Synthetische tekst"
    with pytest.raises(InvalidTag):
        ring.decrypt(data_key, sealed, "person-2")


def test_weak_keys_are_refused():
    with pytest.raises(ValueError, match="PSEUDONYM_KEY"):
        Keyring("short", DEVELOPMENT_ENCRYPTION_KEY)
    with pytest.raises(ValueError, match="ENCRYPTION_KEY"):
        Keyring("p" * 40, "c2hvcnQ=")
