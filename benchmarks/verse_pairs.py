"""Personal names whose given name is a pair of characters from Tang-Song verse: the experiment of
blind panels 17 and 18 (not shipped; docs/realism-panels.md, "Given names from verse pairs, blind").

    python benchmarks/verse_pairs.py gulong -n 60 --seed 17 --min-count 5 --require word-or-given \\
        --surnames list --keep-plain                                     # panel 17's group "verse"
    python benchmarks/verse_pairs.py gulong -n 60 --seed 18 --require given    # panel 18's "vattest"
    python benchmarks/verse_pairs.py gulong -n 60 --seed 18                    # panel 18's "vfree"

The question: the chat model's Gu Long names that readers rate 4-5 have given names that are
images of verse (寒江, 孤帆, 冷月), where the model's passable names read "plain". So: take the
lexicon's verse pairs (pairs of characters seen at least `--min-count` times in Tang-Song verse)
whose characters are attested as a given name's first and second characters among the historical
names; drop titles (`kinds.title_endings`), two numerals (三十), and unless `--keep-plain` common
dictionary words (秋天, 登山: jieba frequency 5,000 or more, person names kept) and pairs with a
function character (之, 中, 若); `--require given` keeps only pairs that are also a given name
among the historical names. A pair is drawn in proportion to count^0.5 times the list's flavour of
its two characters (their share of the author's given names, genre counted half, over their share
of the historical names'), the surname from the author's list, and the model's critic keeps one
of four proposals as `generate` does. At most two names share a given-name character.
Prints one name per line; none is a name of the author's list.
"""

from __future__ import annotations

import argparse
from collections import Counter

import numpy as np

from xiaming import corpora
from xiaming.evidence.critic import critic_path, load_critic
from xiaming.evidence.features import split_name
from xiaming.evidence.judge import WUXIA
from xiaming.evidence.lexicon import SHIFT, Lexicon, shipped_lexicon
from xiaming.generation.epithets import genre_surnames
from xiaming.generation.kinds import title_endings
from xiaming.pretrained import resolve

NUMERALS = "一二三四五六七八九十百千万两"
FUNCTION = "无若如来里可之于其以而也所者乎兮矣焉哉与中从向在有是何此彼自为已及即亦皆尚犹岂莫非未"
NOT_SURNAMES = "无天小阿老"  # begin names of the lists (小昭, 阿紫) without being surnames
COMMON_WORD = 5000  # jieba frequency (as the lexicon stores it) from which a word is everyday (秋天 6571)
POOL = 4


def candidate_pairs(lex: Lexicon, min_count: int, require: str, keep_plain: bool) -> tuple[np.ndarray, ...]:
    """(first ids, second ids, verse counts) of the verse pairs that may be a given name."""
    a = lex.arrays
    keys = a["verse_keys"].astype(np.int64)
    count = a["verse_counts"].astype(float)
    first, second = keys >> SHIFT, keys & ((1 << SHIFT) - 1)
    attested = np.log(1 + 5)
    numerals = list(set(lex.ids(NUMERALS)))
    keep = (count >= min_count) & ~(np.isin(first, numerals) & np.isin(second, numerals))
    keep &= (a["given1"][first] >= attested) & (a["given2"][second] >= attested)
    word = lex.pair_table("word_keys", first, second)
    given = lex.pair_table("given_pair_keys", first, second)
    if require == "word-or-given":
        keep &= (word > 0) | (given > 0)
    elif require == "given":
        keep &= given > 0
    if not keep_plain:
        function = list(set(lex.ids(FUNCTION)))
        person = lex.word_pos(first, second) == 0
        keep &= ((word < COMMON_WORD) | person) & ~np.isin(first, function) & ~np.isin(second, function)
    titles = title_endings()
    keep &= np.array([lex.chars[x] + lex.chars[y] not in titles for x, y in zip(first, second)])
    return first[keep], second[keep], count[keep]


def flavour(lex: Lexicon, ids: np.ndarray, own: Counter, genre: Counter) -> np.ndarray:
    """log of each character's share of the author's given names (genre counted half) over the square
    root of its share of the historical names'."""
    a = lex.arrays
    chars = [lex.chars[i] for i in ids]
    mine = np.array([own[c] for c in chars], float) / sum(own.values())
    theirs = np.array([genre[c] for c in chars], float) / sum(genre.values())
    history = np.exp(a["single"][ids]) + np.exp(a["given1"][ids]) + np.exp(a["given2"][ids])
    return np.log((2 * mine + theirs + 1e-4) / 3) - 0.5 * np.log(history / history.sum())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("author", choices=WUXIA)
    parser.add_argument("-n", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--min-count", type=int, default=8, help="times a pair must occur in verse (default 8)")
    parser.add_argument("--require", choices=("none", "word-or-given", "given"), default="none")
    parser.add_argument("--keep-plain", action="store_true", help="keep common words and function characters")
    parser.add_argument(
        "--surnames", choices=("genre", "list"), default="genre", help="surnames of the genre or seen twice in the list"
    )
    args = parser.parse_args(argv)

    lex = shipped_lexicon()
    names = corpora.load(args.author, kinds=["name"])
    surnames, own = Counter(), Counter()
    for name in names:
        surname, given = split_name(lex, name)
        if surname and given:
            own.update(given)
            common = lex.char_table("surname", np.array(lex.ids(surname[:1])))[0] > np.log(301)
            if common or surname in lex.compounds:
                surnames[surname] += 1
    genre = Counter()
    for author in WUXIA:
        for name in corpora.load(author, kinds=["name"]):
            surname, given = split_name(lex, name)
            if surname and given:
                genre.update(given)
    first, second, count = candidate_pairs(lex, args.min_count, args.require, args.keep_plain)
    log_w = 0.5 * np.log(count) + flavour(lex, first, own, genre) + flavour(lex, second, own, genre)
    p = np.exp(log_w - log_w.max())
    p /= p.sum()
    if args.surnames == "list":
        pool = [s for s in surnames if surnames[s] >= 2]
    else:
        pool = [s for s in surnames if s in genre_surnames() and s not in NOT_SURNAMES]
    sp = np.array([surnames[s] for s in pool], float)
    sp /= sp.sum()

    critic = load_critic(critic_path(resolve(args.author)))
    rng = np.random.default_rng(args.seed)
    known, seen, used, out = set(names), set(), Counter(), []
    while len(out) < args.n:
        proposals = []
        for _ in range(POOL):
            i = rng.choice(len(p), p=p)
            proposals.append(rng.choice(pool, p=sp) + lex.chars[first[i]] + lex.chars[second[i]])
        name = proposals[int(np.argmax(critic.log_weights(proposals, 4.0) + rng.gumbel(size=POOL)))]
        given = name[-2:]
        if name in known or name in seen or given in seen or any(used[c] >= 2 for c in given):
            continue
        used.update(given)
        seen |= {name, given}
        out.append(name)
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
