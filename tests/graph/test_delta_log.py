"""DeltaLog: append/read, torn tails ignored and truncated, corruption in the middle refused."""

from __future__ import annotations

import numpy as np
import pytest

from vastgraph.errors import CorruptStoreError, ParseError, ValidationError
from vastgraph.graph.delta_log import LOG_MAGIC, DeltaLog, atomic_write_bytes, pack, unpack


def _log(tmp_path, payloads):
    log = DeltaLog(tmp_path / "d.log")
    seqs = [log.append(p) for p in payloads]
    return log, seqs


def test_append_and_read(tmp_path):
    log, seqs = _log(tmp_path, [b"a", b"", b"ccc" * 100])
    assert seqs == [1, 2, 3] and log.last_seq == 3 and len(log) == 3
    assert [r.payload for r in log.records()] == [b"a", b"", b"ccc" * 100]
    assert [r.seq for r in log.records(after=1)] == [2, 3]
    assert DeltaLog(tmp_path / "none.log").last_seq == 0 and list(DeltaLog(tmp_path / "none.log").records()) == []


@pytest.mark.parametrize("cut", [1, 10, 36, 40])
def test_torn_tail_is_ignored_then_truncated(tmp_path, cut):
    log, _ = _log(tmp_path, [b"first", b"second-record"])
    raw = log.path.read_bytes()
    log.path.write_bytes(raw[:-cut])  # a crash in the middle of writing record 2
    assert [r.payload for r in log.records()] == [b"first"]
    assert log.torn_bytes() > 0
    assert log.append(b"again") == 2
    assert [r.payload for r in log.records()] == [b"first", b"again"] and log.torn_bytes() == 0


def test_zero_filled_last_payload_is_a_torn_write(tmp_path):
    log, _ = _log(tmp_path, [b"first", b"second"])
    raw = log.path.read_bytes()
    log.path.write_bytes(raw[:-6] + b"\0" * 6)  # the file grew but the payload never reached the disk
    assert [r.seq for r in log.records()] == [1] and log.torn_bytes() == 42
    assert log.append(b"again") == 2 and [r.payload for r in log.records()] == [b"first", b"again"]


def test_complete_last_record_with_bad_checksum_is_damage_not_a_torn_tail(tmp_path):
    log, _ = _log(tmp_path, [b"first", b"second"])
    raw = bytearray(log.path.read_bytes())
    raw[-1] ^= 0xFF  # a complete record whose bytes changed on disk
    log.path.write_bytes(bytes(raw))
    with pytest.raises(CorruptStoreError, match=r"record 2 \(seq 2\) at byte 49: checksum mismatch in a complete "
                                                r"record \(not a torn write\).*--truncate-after 1"):
        list(log.records())
    with pytest.raises(CorruptStoreError, match="refusing to append after it"):
        log.append(b"other")
    assert log.path.read_bytes() == bytes(raw)  # nothing overwritten
    info = log.check()
    assert info["records"] == 1 and info["damaged"]["seq"] == 2 and info["torn_bytes"] == 0
    assert [r.payload for r in log.valid_records()] == [b"first"]
    with pytest.raises(ValidationError, match="truncate_after=2"):
        log.truncate_after(2)
    assert log.truncate_after(1) == 36 + 6
    assert log.append(b"other") == 2 and [r.payload for r in log.records()] == [b"first", b"other"]
    assert log.truncate_after(0) > 0 and log.last_seq == 0 and log.append(b"x") == 1


def test_corrupt_middle_record_names_record_and_offset(tmp_path):
    log, _ = _log(tmp_path, [b"first", b"second", b"third"])
    raw = bytearray(log.path.read_bytes())
    off = len(LOG_MAGIC) + 36  # first payload byte of record 1
    raw[off] ^= 0xFF
    log.path.write_bytes(bytes(raw))
    with pytest.raises(CorruptStoreError, match=r"d.log: record 1 \(seq 1\) at byte 8: checksum mismatch"):
        list(log.records())
    raw[off] ^= 0xFF
    raw[len(LOG_MAGIC) + 36 + 5] = ord("X")  # record 2's marker
    log.path.write_bytes(bytes(raw))
    with pytest.raises(CorruptStoreError, match="record 2 at byte 49: bad record marker"):
        list(log.records())


def test_bad_magic(tmp_path):
    p = tmp_path / "x.log"
    p.write_bytes(b"NOTALOG!rest")
    with pytest.raises(CorruptStoreError, match="x.log: not a vastgraph delta log"):
        DeltaLog(p).last_seq
    p.write_bytes(LOG_MAGIC[:3])  # crash while creating: treated as empty
    assert DeltaLog(p).append(b"z") == 1 and [r.payload for r in DeltaLog(p).records()] == [b"z"]


def test_pack_unpack(tmp_path):
    arrays = {"a": np.arange(5, dtype=np.int32), "s": np.array(["x", "yz"]), "e": np.zeros((0, 3), np.float32)}
    blob = pack(b"TESTMAG1", {"k": 1}, arrays)
    head, back = unpack(b"TESTMAG1", blob, source="blob", what="test blob")
    assert head == {"k": 1} and back.keys() == arrays.keys()
    for k in arrays:
        assert back[k].dtype == arrays[k].dtype and np.array_equal(back[k], arrays[k])
    with pytest.raises(ParseError, match="blob: not a test blob"):
        unpack(b"OTHERMAG", blob, source="blob", what="test blob")
    with pytest.raises(CorruptStoreError, match="blob: test blob checksum mismatch"):
        unpack(b"TESTMAG1", blob[:-3] + b"abc", source="blob", what="test blob")
    with pytest.raises(CorruptStoreError, match="truncated"):
        unpack(b"TESTMAG1", blob[:12], source="blob", what="test blob")
    p = atomic_write_bytes(tmp_path / "sub" / "f.bin", blob)
    assert open(p, "rb").read() == blob and not list((tmp_path / "sub").glob(".*"))


def test_sequence_gap_is_corruption(tmp_path):
    from vastgraph.graph.delta_log import _REC, REC_MAGIC, _digest

    p = tmp_path / "gap.log"
    recs = b"".join(_REC.pack(REC_MAGIC, seq, 1, _digest(b"x")) + b"x" for seq in (1, 3))
    p.write_bytes(LOG_MAGIC + recs)
    with pytest.raises(CorruptStoreError, match="record 2 at byte 45: sequence number 3 does not follow 1"):
        list(DeltaLog(p).records())
