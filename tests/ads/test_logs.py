"""Tests of the search-ads event-log schema, reader and writer (vastgraph.ads.logs)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vastgraph.ads.logs import EVENT_SCHEMA, LogReport, read_events, write_events
from vastgraph.errors import EmptyInputError, ParseError, UnknownIdError, ValidationError

T0 = 1_600_041_600  # a UTC midnight: day 0


def table(n: int = 6) -> pd.DataFrame:
    """A valid hand-written log: 2 days, 3 rows each, in time order."""
    day = np.repeat([0, 1], n // 2)
    return pd.DataFrame({
        "time": T0 + day * 86400 + np.tile(np.arange(n // 2) * 10, 2), "day": day,
        "user": [f"u{i % 2}" for i in range(n)], "query": [f"q{i % 3}" for i in range(n)],
        "query_text": ["red shoe"] * n, "ad": [f"a{i % 2}" for i in range(n)],
        "item": [f"i{i % 2}" for i in range(n)], "advertiser": ["v0"] * n, "bid_words": ["shoe"] * n,
        "bid": [1.0] * n, "position": [1, 2, 1, 1, 2, 3][:n], "impression": [1] * n,
        "click": [1, 0, 1, 0, 1, 0][:n], "conversion": [1, 0, 0, 0, 0, 0][:n],
        "conversion_value": [20.0, 0, 0, 0, 0, 0][:n], "cost": [0.5, 0, 0.4, 0, 0.3, 0][:n]})


def test_valid_log_reads_unchanged_and_typed():
    ev, rep = read_events(table())
    assert isinstance(rep, LogReport)
    assert rep.rows_read == rep.rows_kept == 6 and rep.skipped == {} and rep.reordered == 0
    assert rep.first_day == 0 and rep.last_day == 1 and rep.empty_days == [] and rep.day_origin == T0
    assert list(ev.columns) == EVENT_SCHEMA.names
    assert ev["position"].dtype == np.int8 and ev["day"].dtype == np.int32 and ev["time"].dtype == np.int64
    assert ev["cost"].tolist() == table()["cost"].tolist()
    assert ev["query"].tolist() == table()["query"].tolist()


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".tsv"])
def test_write_read_round_trip(tmp_path, suffix):
    path = write_events(table(), str(tmp_path / f"ev{suffix}"))
    ev, rep = read_events(path)
    assert rep.source == path and rep.rows_kept == 6
    ref, _ = read_events(table())
    pd.testing.assert_frame_equal(ev.astype(str), ref.astype(str))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".events-")]  # no temp file left


def test_optional_columns_get_defaults():
    ev, _ = read_events(table().drop(columns=["item", "query_text", "bid_words", "bid", "conversion",
                                               "conversion_value"]))
    assert ev["item"].tolist() == ev["ad"].tolist()
    assert (ev["query_text"] == "").all() and (ev["conversion"] == 0).all() and (ev["bid"] == 0).all()


def test_missing_required_column_is_always_an_error():
    for mode in ("raise", "skip"):
        with pytest.raises(ParseError, match="field 'cost'.*required column missing"):
            read_events(table().drop(columns=["cost"]), on_error=mode)


def test_missing_value_in_csv_names_file_line_and_field(tmp_path):
    df = table().astype(object)
    df.loc[2, "query"] = ""
    path = tmp_path / "ev.csv"
    df.to_csv(path, index=False)
    with pytest.raises(ParseError) as err:
        read_events(str(path))
    assert err.value.line == 4 and err.value.field == "query" and str(path) in str(err.value)
    ev, rep = read_events(str(path), on_error="skip")
    assert rep.skipped == {"missing:query": 1} and rep.rows_kept == 5 and len(ev) == 5


def test_unparsable_number():
    df = table().astype(object)
    df.loc[1, "time"] = "yesterday"
    with pytest.raises(ParseError, match="row 1.*'yesterday'") as err:
        read_events(df)
    assert err.value.field == "time"
    _, rep = read_events(df, on_error="skip")
    assert rep.skipped == {"bad_type:time": 1}
    df.loc[1, "time"] = T0 + 10
    df.loc[3, "position"] = 1.5  # not an integer
    _, rep = read_events(df, on_error="skip")
    assert rep.skipped == {"bad_type:position": 1}


@pytest.mark.parametrize("col", ["cost", "bid", "conversion_value"])
def test_negative_money_is_rejected_or_counted(col):
    df = table()
    df.loc[4, col] = -0.25
    with pytest.raises(ValidationError, match=f"row 4, field '{col}'.*negative"):
        read_events(df)
    ev, rep = read_events(df, on_error="skip")
    assert rep.skipped == {f"negative:{col}": 1} and len(ev) == 5 and (ev[col] >= 0).all()


@pytest.mark.parametrize("col, value, reason", [
    ("click", 2, "bad_value:click"), ("impression", 3, "bad_value:impression"), ("position", 0, "bad_value:position"),
])
def test_out_of_range_values(col, value, reason):
    df = table()
    df.loc[0, col] = value
    with pytest.raises(ValidationError, match=f"field '{col}'"):
        read_events(df)
    _, rep = read_events(df, on_error="skip")
    assert rep.skipped == {reason: 1}


def test_click_above_impression_and_conversion_without_click():
    df = table()
    df.loc[1, "impression"] = 0  # clicked? no: row 1 has click 0, so make it click without an impression
    df.loc[1, "click"] = 1
    df.loc[3, "conversion"] = 1  # row 3 has no click
    with pytest.raises(ValidationError, match="row 1.*click <= impression"):
        read_events(df)
    _, rep = read_events(df, on_error="skip")
    assert rep.skipped == {"click>impression": 1, "conversion>click": 1}


def test_day_disagreeing_with_time():
    df = table()
    df.loc[5, "day"] = 0  # time says day 1
    with pytest.raises(ValidationError, match="row 5, field 'day'.*expected day 1"):
        read_events(df)
    _, rep = read_events(df, on_error="skip")
    assert rep.skipped == {"day_mismatch": 1}
    # an explicit origin one day earlier makes every row disagree -> nothing left
    with pytest.raises(EmptyInputError, match="all 6 rows"):
        read_events(table(), on_error="skip", start_time=T0 - 86400)
    ev, rep = read_events(table(), start_time=T0)
    assert rep.day_origin == T0 and len(ev) == 6


def test_unknown_ids_against_catalogs():
    df = table()
    with pytest.raises(UnknownIdError, match="row 1, field 'ad'.*'a1'"):
        read_events(df, ads=["a0"])
    ev, rep = read_events(df, ads=pd.DataFrame({"ad": ["a0"]}), queries={"q0", "q1", "q2"}, advertisers=["v0"],
                          on_error="skip")
    assert rep.skipped == {"unknown:ad": 3} and set(ev["ad"]) == {"a0"}
    with pytest.raises(ValidationError, match="expected a 'query' column"):
        read_events(df, queries=pd.DataFrame({"id": ["q0"]}))


def test_out_of_order_rows_are_sorted_and_counted():
    df = table().iloc[[1, 0, 2, 5, 3, 4]].reset_index(drop=True)
    ev, rep = read_events(df)
    assert rep.reordered == 3 and rep.skipped == {}
    assert ev["time"].tolist() == sorted(table()["time"].tolist())
    assert ev["day"].is_monotonic_increasing


def test_empty_days_are_reported():
    df = table()
    df.loc[3:, "day"] = 3
    df.loc[3:, "time"] += 2 * 86400
    ev, rep = read_events(df)
    assert rep.empty_days == [1, 2] and rep.first_day == 0 and rep.last_day == 3 and len(ev) == 6


def test_a_row_counts_once_under_its_first_reason():
    df = table()
    df.loc[2, "cost"] = -1.0
    df.loc[2, "bid"] = -1.0
    _, rep = read_events(df, on_error="skip")
    assert rep.rows_skipped == 1 and rep.rows_kept == 5
    assert rep.to_dict()["rows_skipped"] == 1


def test_bad_arguments_and_inputs(tmp_path):
    with pytest.raises(ValidationError, match="on_error='ignore'"):
        read_events(table(), on_error="ignore")
    with pytest.raises(ValidationError, match="start_time"):
        read_events(table(), start_time=1.5)
    with pytest.raises(EmptyInputError):
        read_events(table().iloc[:0])
    with pytest.raises(ParseError, match="no such file"):
        read_events(str(tmp_path / "none.parquet"))
    (tmp_path / "ev.json").write_text("{}")
    with pytest.raises(ParseError, match="unknown file extension"):
        read_events(str(tmp_path / "ev.json"))
    (tmp_path / "bad.parquet").write_text("not parquet")
    with pytest.raises(ParseError, match="cannot read"):
        read_events(str(tmp_path / "bad.parquet"))


def test_write_events_checks():
    with pytest.raises(ValidationError, match=r"\['cost'\]"):
        write_events(table().drop(columns=["cost"]), "/tmp/x.parquet")
    with pytest.raises(ValidationError, match="expected a .parquet"):
        write_events(table(), "/tmp/x.json")
    with pytest.raises(ValidationError, match="DataFrame"):
        write_events([1, 2], "/tmp/x.parquet")
