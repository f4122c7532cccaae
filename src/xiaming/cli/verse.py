"""`xiaming verse`: names drawn from classical verse, each with its line, poem, author and book
(the library: xiaming/verse/)."""

from __future__ import annotations

import json
import sys

from .args import MODEL_HELP, add_device, load_namer, positive_int, seed_int


def add_verse(sub) -> None:
    p = sub.add_parser(
        "verse",
        help="names drawn from classical verse, with the line each comes from",
        description="Propose given names of one or two characters taken in order from one line of "
        "the 诗经, 楚辞, 唐诗三百首, 宋词三百首 or 论语, and rank them by how real they read as a "
        "name: the model's probability of the whole name, its critic when it carries one, "
        "the gender lean when asked, the tone pattern; characters with bad meanings are "
        "never used. Names are drawn from the best in proportion to their score, one per "
        "line and few per character, so each seed gives different ones; shown best first.",
    )
    p.add_argument(
        "--model", default="base", help=MODEL_HELP + " (default base: historical names; poets judges by poets' names)"
    )
    p.add_argument(
        "--surname",
        default=None,
        help="the surname, one or two characters the model knows (default: drawn from the model's usual surnames)",
    )
    p.add_argument(
        "--book",
        default=None,
        metavar="BOOK,...",
        help="books to draw from, comma-separated: shijing (诗经), chuci (楚辞), tangshi300 (唐诗三百首), "
        "songci300 (宋词三百首), lunyu (论语) (default: all)",
    )
    p.add_argument(
        "--gender",
        default=None,
        choices=("female", "male"),
        help="prefer names whose characters lean female or male in modern given names (default: no preference)",
    )
    p.add_argument(
        "--given-len",
        type=int,
        default=None,
        choices=(1, 2),
        help="given names of 1 or 2 characters only (default: both, in the model's own mix)",
    )
    p.add_argument("-n", type=positive_int, default=10, help="how many names, at least 1 (default 10)")
    p.add_argument(
        "--critic",
        choices=("on", "off"),
        default=None,
        help="use the model's realism critic (default on for models that carry one: the wuxia models)",
    )
    p.add_argument("--seed", type=seed_int, default=None, help="seed for reproducible output (default: random)")
    add_device(p, "numpy")
    p.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object: the surname, books, evidence used, and each name with its pinyin, "
        "line (plain and marked), title, author, book, log-probability, the critic's P(passable) and "
        "the gender lean",
    )
    p.add_argument("--verbose", action="store_true", help="print the surname, books and evidence used to stderr")
    p.set_defaults(run=_cmd_verse)


def format_item(item) -> str:
    """One line of plain output: name, pinyin, the marked line and where it comes from."""
    source = f"《{item.title}》" + (f" {item.author}" if item.author else "")
    book = item.book + (f"·{item.section}" if item.section and item.section != item.title else "")
    return f"{item.name}  {item.pinyin}  {item.marked}  {source} · {book}"


def _cmd_verse(args) -> int:
    from ..verse import shipped_table, verse_names

    shipped_table().resolve_books(args.book)  # an unknown book fails before the model loads
    namer = load_namer(args.model, args.device)
    lengths = (args.given_len,) if args.given_len else (1, 2)
    critic = None if args.critic is None else args.critic == "on"
    result = verse_names(namer, args.n, args.surname, args.book, args.gender, args.seed, lengths, critic)
    if args.verbose:
        print(
            f"surname {result.surname}; books {', '.join(result.books)}; {result.candidates:,} candidates, "
            f"{result.scored:,} scored in full; {result.steering}",
            file=sys.stderr,
        )
    if args.json:
        print(json.dumps({"model": args.model, **result.to_dict()}, ensure_ascii=False))
    else:
        for item in result.items:
            print(format_item(item))
    if not result.items:
        print(f"xiaming verse: error: no names: {result.reason}", file=sys.stderr)
        return 1
    if result.exhausted:
        print(f"xiaming verse: found only {len(result.items)} of {result.requested}: {result.reason}", file=sys.stderr)
    return 0
