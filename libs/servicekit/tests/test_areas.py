import pytest
from pydantic import ValidationError

from servicekit.areas import AreaConfig, load_area_config


def test_schiedam_has_six_teams_four_area_managers_and_the_named_districts():
    areas = load_area_config()
    assert len(areas.teams) == 6
    assert len({t.area_manager for t in areas.teams}) == 4
    assert {
        "centrum",
        "oost",
        "west",
        "zuid",
        "nieuwland",
        "groenoord",
        "noord",
        "woudhoek",
    } == areas.district_codes


@pytest.mark.parametrize(
    ("postcode", "district"),
    [("3117 AB", "west"), ("3117ab", "west"), ("3124XY", "noord"), ("1012 AB", None), ("", None)],
)
def test_postcode_to_district(postcode, district):
    assert load_area_config().district_for_postcode(postcode) == district


def test_district_to_team_and_manager_to_teams():
    areas = load_area_config()
    assert areas.team_for_district("nieuwland") == "wot-zuid"
    assert areas.teams_managed_by("am-01") == {"wot-centrum", "wot-oost"}


def test_inconsistent_configuration_is_refused():
    with pytest.raises(ValidationError, match="unknown team"):
        AreaConfig.model_validate(
            {
                "municipality": "x",
                "teams": [{"code": "t1", "name": "T1", "area_manager": "am"}],
                "districts": [{"code": "d1", "name": "D1", "team": "t2"}],
            }
        )
    with pytest.raises(ValidationError, match="postcode 3111"):
        AreaConfig.model_validate(
            {
                "municipality": "x",
                "teams": [{"code": "t1", "name": "T1", "area_manager": "am"}],
                "districts": [
                    {"code": "d1", "name": "D1", "team": "t1", "postcodes": ["3111"]},
                    {"code": "d2", "name": "D2", "team": "t1", "postcodes": ["3111"]},
                ],
            }
        )
