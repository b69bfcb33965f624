"""Stop strings end each generated sequence on its own, for any tokenizer (the tiny model's word-level one too)."""

from __future__ import annotations

import torch
from transformers import GenerationConfig, LlamaForCausalLM, StoppingCriteriaList

from benchmark.engine.stop_strings import StopAtStrings
from benchmark.engine.text_generation import left_padded
from benchmark.model.tiny_backbone import build_word_tokenizer, tiny_config

WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu"


def generated_texts(stops: tuple[str, ...]) -> tuple[list[str], list[int]]:
    tokenizer = build_word_tokenizer([WORDS])
    torch.manual_seed(0)
    model = LlamaForCausalLM(tiny_config(len(tokenizer))).eval()
    prompts = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in ("alpha beta", "kappa lambda mu")]
    ids, mask = left_padded(prompts, int(tokenizer.pad_token_id))
    settings = GenerationConfig(max_new_tokens=12, do_sample=False, pad_token_id=int(tokenizer.pad_token_id), eos_token_id=int(tokenizer.eos_token_id))
    stopping = StoppingCriteriaList([StopAtStrings(tokenizer, stops, ids.size(1))] if stops else [])
    with torch.inference_mode():
        out = model.generate(input_ids=ids, attention_mask=mask, generation_config=settings, stopping_criteria=stopping)[:, ids.size(1):]
    lengths = [int((row != tokenizer.pad_token_id).sum()) for row in out]
    return tokenizer.batch_decode(out, skip_special_tokens=True), lengths


def test_each_sequence_stops_at_its_own_stop_string_and_the_others_go_on() -> None:
    free, free_lengths = generated_texts(())
    first_words = free[0].split()
    assert len(first_words) >= 4, free  # an untrained model writes on to max_new_tokens
    stop = first_words[2]
    assert stop not in free[1].split(), "pick prompts whose outputs differ"
    stopped, lengths = generated_texts((stop,))
    assert stopped[0].split() == first_words[: first_words.index(stop) + 1]  # stopped at the token that wrote it
    assert stopped[1] == free[1] and lengths[1] == free_lengths[1]  # the other sequence was not cut
