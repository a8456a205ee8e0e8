"""Bad edge-list input: every case names the file, the 1-based line and the field."""

from __future__ import annotations

import pytest

from vastgraph.errors import DatasetError, EmptyInputError, ParseError, ValidationError
from vastgraph.graph.readers import read_edgelist


def write(tmp_path, name: str, text: str) -> str:
    p = tmp_path / name
    p.write_bytes(text.encode())
    return str(p)


def parse_error(path: str, **kwargs) -> ParseError:
    with pytest.raises(ParseError) as info:
        read_edgelist(path, **kwargs)
    return info.value


# (file text, reader kwargs, line, field, words in the message)
CASES = {
    "too_few_fields": ("1 2 0.5\n2 3\n", {}, 2, "weight", "2 field(s), expected 3"),
    "too_many_fields": ("1 2 0.5\n2 3 1 4\n", {}, 2, "column 4", "4 field(s), expected 3"),
    "non_numeric_weight": ("# c\n1 2 0.5\n2 3 abc\n", {}, 3, "weight", "'abc' is not a number"),
    "nan_weight": ("1 2 0.5\n\n2 3 nan\n", {}, 3, "weight", "'nan' is not a finite number"),
    "inf_weight": ("1 2 0.5\n2 3 -inf\n", {}, 2, "weight", "'-inf' is not a finite number"),
    "float32_overflow_weight": ("1 2 0.5\n2 3 1e39\n", {}, 2, "weight", "overflows float32"),
    "non_integer_time": ("1 2 0.5 10\n2 3 1.0 1.5\n", {}, 2, "time", "'1.5' is not an integer"),
    "nan_time": ("1 2 0.5 10\n2 3 1.0 nan\n", {}, 2, "time", "'nan' is not an integer"),
    "non_integer_dense_id": ("1 2\n3 x\n", {"id_mode": "dense"}, 2, "dst", "'x' is not an integer"),
    "float_dense_id": ("1 2\n3.5 4\n", {"id_mode": "dense"}, 2, "src", "'3.5' is not an integer"),
    "negative_dense_id": ("1 2\n-3 4\n", {"id_mode": "dense"}, 2, "src", "negative id"),
    "empty_csv_field": ("u,v\n1,2\n3,\n", {"delimiter": ",", "header": True}, 3, "dst", "empty field"),
    "bad_relation_name": ("a 1 2\nb:c 2 3\n", {"columns": {"rel": 0, "src": 1, "dst": 2}}, 2, "rel",
                          "not a usable relation name"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_line_names_file_line_and_field(tmp_path, name):
    text, kwargs, line, field, words = CASES[name]
    p = write(tmp_path, f"{name}.txt", text)
    err = parse_error(p, **kwargs)
    assert err.path == p and err.line == line and err.field == field
    assert str(err).startswith(f"{p}, line {line}, field {field!r}: ")
    assert words in str(err)


@pytest.mark.parametrize("kwargs", [{}, {"id_dtype": "str"}, {"delimiter": " "}],
                         ids=["numba", "pandas", "explicit-space"])
@pytest.mark.parametrize("bad,field", [("7 8 oops", "weight"), ("7 8", "weight"), ("7 8 1 2", "column 4")])
def test_late_error_in_a_big_file_is_found_exactly(tmp_path, kwargs, bad, field):
    lines = ["# leading comment", ""] + [f"{i} {i + 1} 0.5" for i in range(1300)]
    lines.insert(700, "# a comment in the middle")
    lines.append(bad)
    p = write(tmp_path, "late.txt", "\n".join(lines) + "\n")
    err = parse_error(p, chunk_rows=64, **kwargs)
    assert (err.line, err.field) == (len(lines), field)


def test_string_id_after_integer_ids_suggests_id_dtype(tmp_path):
    lines = [f"{i} {i + 1}" for i in range(2000)] + ["5 y"]
    p = write(tmp_path, "ids.txt", "\n".join(lines) + "\n")
    err = parse_error(p, chunk_rows=100)
    assert (err.line, err.field) == (2001, "dst")
    assert "id_dtype='str'" in str(err)
    g = read_edgelist(p, id_dtype="str")  # the suggested fix works
    assert g.num_edges() == 2001


def test_line_numbers_count_header_comments_and_blank_lines_in_pandas_tier(tmp_path):
    text = "# c1\n\nsrc,dst,w\n# c2\na,b,1\n\nb,c,x\n"
    p = write(tmp_path, "e.csv", text)
    err = parse_error(p, delimiter=",", header=True, columns={"src": "src", "dst": "dst", "weight": "w"})
    assert (err.line, err.field) == (7, "weight")


def test_crlf_file_error_line(tmp_path):
    p = write(tmp_path, "e.txt", "1 2 1\r\n2 3 1\r\n3 4 q\r\n")
    err = parse_error(p)
    assert (err.line, err.field) == (3, "weight") and "'q'" in str(err)


def test_invalid_utf8_is_a_parse_error(tmp_path):
    p = tmp_path / "e.txt"
    p.write_bytes(b"a b\nc \xff\xfe\n")
    err = parse_error(str(p))
    assert err.line == 2 and "UTF-8" in str(err)


@pytest.mark.parametrize("text,what", [("", "empty"), ("# only\n\n# comments\n", "only comments"),
                                       ("u v\n", "only a header")])
def test_empty_input_names_the_file(tmp_path, text, what):
    p = write(tmp_path, "empty.txt", text)
    with pytest.raises(EmptyInputError, match="empty.txt") as info:
        read_edgelist(p, header=what == "only a header")
    assert what.split()[-1] in str(info.value)


def test_missing_file_is_a_dataset_error(tmp_path):
    missing = tmp_path / "nope.txt"
    with pytest.raises(DatasetError, match="nope.txt") as info:
        read_edgelist(missing)
    assert isinstance(info.value, FileNotFoundError)
    with pytest.raises(DatasetError, match="folder"):
        read_edgelist(tmp_path)


def test_unknown_column_name_names_the_header_line(tmp_path):
    p = write(tmp_path, "e.csv", "# c\nu,v,w\n1,2,3\n")
    err = parse_error(p, delimiter=",", header=True, columns={"src": "u", "dst": "v", "weight": "wt"})
    assert (err.line, err.field) == (2, "weight") and "'wt'" in str(err) and "u, v, w" in str(err)


def test_column_index_out_of_range(tmp_path):
    p = write(tmp_path, "e.txt", "1 2\n")
    err = parse_error(p, columns={"src": 0, "dst": 1, "weight": 5})
    assert (err.line, err.field) == (1, "weight")


@pytest.mark.parametrize("kwargs,match", [
    ({"columns": {"src": 0, "dst": 1, "colour": 2}}, "unknown role 'colour'"),
    ({"columns": {"src": 0}}, "role 'dst' is required"),
    ({"columns": {"src": 0, "dst": 0}}, "both name column 0"),
    ({"columns": {"src": "u", "dst": "v"}}, "header=False"),
    ({"weighted": True}, "weight was asked for"),
    ({"delimiter": ""}, "delimiter"),
    ({"comment": "##"}, "comment"),
    ({"chunk_rows": 0}, "chunk_rows"),
    ({"id_dtype": "float"}, "id_dtype"),
    ({"etype": "a:b:c", "src_type": "x"}, "already names the node types"),
    ({"columns": {"rel": 0, "src": 1, "dst": 1}, "etype": "r"}, "exclude each other"),
])
def test_bad_arguments_are_validation_errors(tmp_path, kwargs, match):
    p = write(tmp_path, "e.txt", "1 2\n2 3\n")
    with pytest.raises(ValidationError, match=match):
        read_edgelist(p, **kwargs)
