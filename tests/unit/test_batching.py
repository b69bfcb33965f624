"""Dynamic padding, length buckets and length-sorted evaluation batches."""

from __future__ import annotations

import torch

from benchmark.model.batching import eval_batch_indices, pad_batch, train_batch_count, train_batch_indices


def test_pad_batch_pads_right_to_the_longest() -> None:
    ids, mask = pad_batch([[5, 6, 7], [8]], pad_id=0)
    assert ids.tolist() == [[5, 6, 7], [8, 0, 0]]
    assert mask.tolist() == [[1, 1, 1], [1, 0, 0]]


def test_pad_batch_pads_to_a_fixed_width_and_takes_tensors() -> None:
    ids, mask = pad_batch([torch.tensor([5, 6]), torch.tensor([8])], pad_id=0, width=4)
    assert ids.tolist() == [[5, 6, 0, 0], [8, 0, 0, 0]]
    assert mask.tolist() == [[1, 1, 0, 0], [1, 0, 0, 0]]


def test_train_batch_count_is_the_number_of_batches_drawn() -> None:
    for n, batch_size, bucket_batches in [(1000, 16, 10), (95, 16, 2), (33, 8, 1), (7, 16, 50), (160, 16, 3)]:
        batches = train_batch_indices([1 + i % 13 for i in range(n)], batch_size, generator=torch.Generator().manual_seed(n), bucket_batches=bucket_batches)
        assert train_batch_count(n, batch_size) == len(batches)


def test_train_batches_cover_each_example_once_and_group_lengths() -> None:
    lengths = [1 + (i * 7919) % 60 for i in range(1000)]
    batches = train_batch_indices(lengths, 16, generator=torch.Generator().manual_seed(0), bucket_batches=10)
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(1000))
    # Inside a bucket a batch spans a narrow length range; random batches would span ~60.
    spans = [max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches]
    assert sum(spans) / len(spans) < 10


def test_train_batches_are_reproducible_and_reshuffled_each_epoch() -> None:
    lengths = [1 + i % 30 for i in range(200)]
    generator = torch.Generator().manual_seed(3)
    first = train_batch_indices(lengths, 8, generator=generator)
    second = train_batch_indices(lengths, 8, generator=generator)
    again = train_batch_indices(lengths, 8, generator=torch.Generator().manual_seed(3))
    assert first == again
    assert first != second


def test_eval_batches_are_sorted_by_length() -> None:
    lengths = [3, 9, 1, 7, 5]
    batches = eval_batch_indices(lengths, 2)
    flat = [i for b in batches for i in b]
    assert [lengths[i] for i in flat] == sorted(lengths, reverse=True)
    assert [len(b) for b in batches] == [2, 2, 1]
