"""What the composer accepts (asknostr.postable): no empty file, none over the Bridge's limit, said in MiB."""

from __future__ import annotations

from asknostr.postable import refusal, size_text

LIMIT = 100 * 1024 * 1024  # the Bridge's default


def test_files_with_bytes_under_the_limit_are_accepted() -> None:
    assert refusal([("a.mp4", 1), ("b.png", LIMIT)], LIMIT) is None
    assert refusal([], LIMIT) is None


def test_an_empty_file_is_refused_by_name() -> None:
    assert refusal([("ok.png", 10), ("empty.mp4", 0)], LIMIT) == "empty.mp4: the file is empty — nothing posted"


def test_a_file_over_the_limit_is_refused_with_the_limit_in_the_units_the_bridge_counts() -> None:
    said = refusal([("big.mp4", LIMIT + 1)], LIMIT)
    assert said == "larger than 100 MiB, the most the Bridge keeps: big.mp4 — nothing posted"


def test_sizes_read_in_binary_units() -> None:
    assert [size_text(n) for n in (0, 512, 1536, 100 << 20, 3 << 30)] == [
        "0 bytes",
        "512 bytes",
        "1.5 KiB",
        "100 MiB",
        "3 GiB",
    ]
