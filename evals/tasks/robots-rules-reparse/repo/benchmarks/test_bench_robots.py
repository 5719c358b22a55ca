"""Benchmark: checking one URL against a large site's robots.txt, and a crawl checking a
batch of URLs against one policy."""

from __future__ import annotations

import random

from crawlrules.robots import RobotsPolicy

N_SECTIONS = 2_000
PATH = "/catalog/section-1718/item-31415/reviews?page=2"


def make_text(seed: int = 3) -> str:
    rng = random.Random(seed)
    lines = ["# robots.txt for a large shop", "User-agent: *", "Crawl-delay: 2", ""]
    for number in range(N_SECTIONS):
        section = f"/catalog/section-{number}/"
        lines.append(f"# section {number}")
        lines.append(f"Disallow: {section}cart")
        if rng.random() < 0.5:
            lines.append(f"Allow: {section}item-{rng.randrange(10**5)}/")
        lines.append(f"disallow : {section}search?  # faceted search")
    lines.append("Disallow: /catalog/section-1718/item-3")
    lines.append("Sitemap: https://shop.example/sitemap.xml")
    return "\n".join(lines) + "\n"


def bench_case():
    """The benchmarked call: ``(bound method, args)``."""
    return RobotsPolicy(make_text()).allows, (PATH,)


def test_bench_allows(benchmark):
    function, args = bench_case()
    assert benchmark(function, *args) is False


def test_crawl():
    policy = RobotsPolicy(make_text())
    paths = [f"/catalog/section-{number * 37 % N_SECTIONS}/item-{number}/" for number in range(50)]
    paths += [f"/catalog/section-{number}/cart" for number in range(10)]
    allowed = [policy.allows(path) for path in paths]
    assert allowed.count(False) >= 10
