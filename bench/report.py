#!/usr/bin/env python3
"""Turn bench/out/results.json into docs/PERFORMANCE.md, docs/perf.svg and a stdout summary.

Usage: python3 bench/report.py bench/out/results.json

Standard library only, so the report can be regenerated anywhere run.sh can run.
"""
import html
import json
import os
import statistics
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
LK = ("latchkey-sqlite", "latchkey-postgres")
SYSTEMS = LK + ("peer",)
SHORT = {"latchkey-sqlite": "SQLite", "latchkey-postgres": "PostgreSQL", "peer": "peer"}
COLOURS = {"latchkey-sqlite": "#0072B2", "latchkey-postgres": "#009E73", "peer": "#E69F00"}
# key -> human label; unit and direction are derived from the suffix (see unit_of).
FIGURES = {
    "discovery_rps": "Discovery document", "jwks_rps": "JWKS",
    "refresh_rps": "Refresh-token grant", "signin_rps": "Sign-in (password + code flow)",
    "userinfo_rps": "UserInfo", "introspection_rps": "Token introspection",
    "storm_signin_rps": "Sign-in, during storm", "signin_p95_ms": "Sign-in p95 latency",
    "jwks_p99_idle_ms": "JWKS p99 latency, idle",
    "jwks_p99_storm_ms": "JWKS p99 latency, during sign-in storm",
    "ready_ms": "Start-up to ready", "rss_idle_mb": "RSS at idle",
    "rss_after_mb": "RSS after load", "peak_mb": "Peak RSS",
}
CEILING_OF = {"discovery_rps": "http", "jwks_rps": "http", "userinfo_rps": "http",
              "introspection_rps": "http", "refresh_rps": "sign",
              "signin_rps": "argon2", "storm_signin_rps": "argon2"}


def unit_of(key):
    """Unit and direction come from the key suffix so unknown future figures still render."""
    return {"_ms": ("ms", True), "_mb": ("MB", True)}.get(key[-3:], ("req/s", False))


def num(v):
    """Accept only real numbers; run.sh writes null for failed runs and we must skip those."""
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def runs(values):
    """Per-run list; tolerate a bare number (memory figures have one sample per system)."""
    return values if isinstance(values, list) else [] if values is None else [values]


def median(values):
    """Median of the non-null runs: robust to one noisy run, None when every run failed."""
    vals = [num(v) for v in runs(values) if num(v) is not None]
    return statistics.median(vals) if vals else None


def fmt(v, unit=""):
    """Few significant digits: run-to-run noise makes more digits meaningless."""
    if v is None:
        return "n/a"
    s = f"{v:,.0f}" if abs(v) >= 100 else f"{v:.1f}" if abs(v) >= 10 else f"{v:.2f}"
    return f"{s} {unit}".strip()


def fx(r):
    """Format a ratio like 3.4, 12 or 0.82."""
    return f"{r:.0f}" if r >= 10 else f"{r:.1f}" if r >= 1 else f"{r:.2g}"


def ratio(a, b):
    """a / b, or None when either side is missing or zero (no meaningful comparison)."""
    return a / b if a is not None and b else None


def versus(key, lk, peer):
    """Spell out the direction so a ratio below 1 is never mistaken for a win (or vice versa)."""
    r = ratio(lk, peer)
    unit, lower = unit_of(key)
    if r is None or (lower and r == 0):
        return "n/a"
    if not lower:
        return f"{fx(r)}× faster" if r >= 1 else f"{fx(r)}× (slower)"
    what = ("less memory", "more memory") if unit == "MB" else ("faster", "slower")
    if r <= 1:
        return f"{fx(r)}× ({fx(1 / r)}× {what[0]})"
    return f"{fx(r)}× ({fx(r)}× {what[1]})"


def ceilings(d):
    """Physical ceilings: what one machine could do if the server did nothing but the
    unavoidable work (an HTTP round trip, RSA signatures, one Argon2id verification)."""
    c, sigs = d.get("ceilings") or {}, d.get("signatures_per_refresh") or {}
    cores = num((d.get("machine") or {}).get("cores"))
    rsa, a2, a2p, http = (num(c.get(k)) for k in (
        "rsa2048_signs_per_s_per_core", "argon2id_hashes_per_s_per_core",
        "argon2id_hashes_per_s_per_core_peer", "actix_json_req_per_s"))

    def per(x, n):
        return cores * x / n if cores and x and num(n) else None
    n = cores or "?"
    return {  # key -> (name, value, unit, derivation, applies to)
        "http": ("HTTP + JSON", http, "req/s", "measured: minimal actix-web JSON handler, "
                 "same wrk load", "discovery, JWKS, UserInfo, introspection"),
        "sign": ("RS256 signing", per(rsa, sigs.get("latchkey")), "refreshes/s",
                 f"{n} cores × {fmt(rsa)} RSA-2048 signs/s/core ÷ {sigs.get('latchkey', '?')} "
                 "signatures per refresh", "refresh (Latchkey)"),
        "argon2": ("Argon2id verification", per(a2, 1), "sign-ins/s",
                   f"{n} cores × {fmt(a2)} Argon2id hashes/s/core ÷ 1 verification per sign-in",
                   "sign-in (Latchkey)"),
        "peer_sign": ("RS256 signing, peer", per(rsa, sigs.get("peer")), "refreshes/s",
                      f"{n} cores × {fmt(rsa)} signs/s/core ÷ {sigs.get('peer', '?')} "
                      "signatures per refresh", "context only"),
        "peer_argon2": ("Argon2id verification, peer", per(a2p, 1), "sign-ins/s",
                        f"{n} cores × {fmt(a2p)} hashes/s/core with the peer's parameters",
                        "context only"),
    }


def analyse(d):
    """Medians per figure/system; only figures present in the input get a row."""
    figs = d.get("figures") or {}
    keys = [k for k in FIGURES if k in figs] + sorted(k for k in figs if k not in FIGURES)
    med = {k: {s: median((figs[k] or {}).get(s)) for s in SYSTEMS} for k in keys}
    return keys, med


def pct_of_ceiling(key, med, ceil):
    """Latchkey's fraction of the relevant ceiling, both backends, as 'SQLite / PostgreSQL'."""
    c = ceil[CEILING_OF[key]][1] if key in CEILING_OF else None
    if not c:
        return "–"
    return " / ".join("n/a" if med[key][s] is None else f"{100 * med[key][s] / c:.0f} %"
                      for s in LK)


def targets(d, med, ceil):
    """Yield (label, target, {system: (value text, ok or None)}); None means not evaluable."""
    def row(label, target, check):
        return label, target, {s: check(s) or ("n/a", None) for s in LK}

    def vs_peer(key, factor):
        def check(s):
            r = ratio(med.get(key, {}).get(s), med.get(key, {}).get("peer"))
            return None if r is None else (f"{fx(r)}× peer", r >= factor)
        return check

    def absolute(key, limit):
        def check(s):
            v = med.get(key, {}).get(s)
            return None if v is None else (fmt(v, unit_of(key)[0]), v <= limit)
        return check

    def of_sign_ceiling(s):
        v, c = med.get("refresh_rps", {}).get(s), ceil["sign"][1]
        return None if v is None or not c else (f"{100 * v / c:.0f} %", v >= 0.75 * c)

    def storm(s):
        r = ratio(med.get("jwks_p99_storm_ms", {}).get(s), med.get("jwks_p99_idle_ms", {}).get(s))
        return None if r is None else (f"{fx(r)}× idle", r <= 2)

    yield row("Discovery throughput", "≥ 3× peer", vs_peer("discovery_rps", 3))
    yield row("JWKS throughput", "≥ 3× peer", vs_peer("jwks_rps", 3))
    yield row("Refresh throughput", "≥ 1.5× peer", vs_peer("refresh_rps", 1.5))
    yield row("Refresh throughput", "≥ 75 % of signing ceiling", of_sign_ceiling)
    yield row("Sign-in throughput", "≥ peer", vs_peer("signin_rps", 1))
    yield row("UserInfo throughput", "≥ 3× peer", vs_peer("userinfo_rps", 3))
    yield row("Introspection throughput", "≥ 3× peer", vs_peer("introspection_rps", 3))
    yield row("JWKS p99 during storm", "≤ 2× idle p99", storm)
    yield row("RSS at idle", "≤ 20 MB", absolute("rss_idle_mb", 20))
    yield row("Peak RSS", "≤ 80 MB", absolute("peak_mb", 80))
    yield row("Start-up to ready", "≤ 100 ms", absolute("ready_ms", 100))
    scale = d.get("scale") or {}
    for metric, label in (("signin_p95_ms", "Sign-in p95"), ("search_p95_ms", "User search p95")):
        def check(s, metric=metric):
            b = scale.get(s.split("-")[1]) or {}
            vals, n = [num(v) for v in b.get(metric) or []], b.get("sizes") or []
            if len(vals) < 2 or len(n) != len(vals) or not vals[0] or vals[-1] is None:
                return None
            r = vals[-1] / vals[0]
            return (f"{users(n[-1])}: {fmt(vals[-1], 'ms')} vs {users(n[0])}: "
                    f"{fmt(vals[0], 'ms')} ({fx(r)}×)", r <= 1.5)
        yield row(f"{label}, most vs fewest users", "≤ 1.5×", check)


def users(n):
    """1000 -> 1k, 1000000 -> 1M: the targets table has little room for user counts."""
    if isinstance(n, int) and n >= 1000:
        return f"{n / 1e6:g}M" if n >= 1_000_000 else f"{n / 1e3:g}k"
    return str(n)


def verdict(ok):
    """None means the inputs were missing: say so rather than pass or fail silently."""
    return "–" if ok is None else "✅" if ok else "❌"


def table(head, rows):
    """Markdown table; a raw pipe inside a cell (e.g. from a note or version) would split it."""
    def line(r):
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |"
    return [line(head), "|" + "---|" * len(head)] + [line(r) for r in rows]


def label(key):
    """Units and direction in the row label, so every number in the row reads unambiguously."""
    unit, lower = unit_of(key)
    return f"{FIGURES.get(key, key)} ({unit}{', lower is better' if lower else ''})"


def peer_version(d):
    """Name the peer with its version: results are only comparable for a known release."""
    op = str((d.get("machine") or {}).get("oidc_provider") or "").strip()
    return op if "oidc" in op else f"node-oidc-provider {op or '?'}"



def markdown(d, keys, med, ceil, tgts):
    """The generated block that lives between the markers in docs/PERFORMANCE.md."""
    m = d.get("machine") or {}
    out = [BEGIN, "", f"Run on {d.get('date', 'unknown date')}: {m.get('cpu', '?')}, "
           f"{m.get('cores', '?')} cores, {m.get('memory', '?')} RAM, {m.get('os', '?')} "
           f"(kernel {m.get('kernel', '?')}); rustc {m.get('rustc', '?')}, "
           f"node {m.get('node', '?')}, "
           f"{peer_version(d)}, PostgreSQL {m.get('postgres', '?')}, wrk {m.get('wrk', '?')}.",
           "", f"Method: {d.get('seconds_per_run', '?')} s per run, {d.get('runs', '?')} runs, "
           "interleaved latchkey-sqlite → latchkey-postgres → peer; medians; wrk -t2 -c64 for "
           "GET figures; the Rust driver bench/driver/ for flows. "
           f"Command: `{d.get('command', 'bash bench/run.sh')}`.", "", "## Results", ""]
    rows = [[label(k)] + [fmt(med[k][s]) for s in SYSTEMS]
            + [versus(k, med[k][s], med[k]["peer"]) for s in LK] + [pct_of_ceiling(k, med, ceil)]
            for k in keys]
    out += table(["Figure", "Latchkey SQLite", "Latchkey PostgreSQL", f"peer ({peer_version(d)})",
                  "SQLite vs peer", "PostgreSQL vs peer", "% of ceiling (SQLite / PostgreSQL)"],
                 rows)
    missing = [FIGURES[k] for k in FIGURES if k not in keys]
    if missing:
        out += ["", "Not measured in this run: " + "; ".join(missing) + "."]
    out += ["", "Ratios are Latchkey ÷ peer. For ms and MB rows lower is better, so a ratio "
            "below 1 is a win; the words in brackets give the direction.", "",
            "<details><summary>Per-run values</summary>", ""]
    figs = d.get("figures") or {}
    out += table(["Figure", "System", "Runs"],
                 [[label(k), s,
                   ", ".join(fmt(num(v)) for v in runs((figs[k] or {}).get(s))) or "n/a"]
                  for k in keys for s in SYSTEMS])
    out += ["", "</details>", "", "## Ceilings", ""]
    out += table(["Ceiling", "Value", "Derivation", "Applies to"],
                 [[n, fmt(v, u if v else ""), how, to] for n, v, u, how, to in ceil.values()])
    out += ["", "## Targets", ""]
    out += table(["Figure", "Target", "SQLite value", "SQLite", "PostgreSQL value", "PostgreSQL"],
                 [[lab, tgt] + [x for s in LK for x in (res[s][0], verdict(res[s][1]))]
                  for lab, tgt, res in tgts])
    scale = {b: v for b, v in (d.get("scale") or {}).items() if v}
    if scale:
        out += ["", "## Scale", ""]
        out += table(["Backend", "Users", "Sign-in p95 (ms)", "User search p95 (ms)"],
                     [[b, f"{n:,}" if isinstance(n, int) else n]
                      + [fmt(num(dict(enumerate(v.get(m) or [])).get(i))) for m in
                         ("signin_p95_ms", "search_p95_ms")]
                      for b, v in scale.items() for i, n in enumerate(v.get("sizes") or [])])
    out += ["", "![Latchkey vs node-oidc-provider](perf.svg)", ""]
    notes = d.get("notes") or []
    if notes:
        out += ["## Notes", ""] + [f"- {str(n).strip().replace('<', '&lt;')}" for n in notes] + [""]
    return "\n".join(out + [END])


def write_markdown(path, block):
    """Replace only the generated block so hand-written analysis around it survives reruns."""
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        i, j = text.find(BEGIN), text.find(END)
        if i >= 0 and j > i:
            text = text[:i] + block + text[j + len(END):]
        else:
            print(f"warning: markers missing in {path}; appending the report", file=sys.stderr)
            text = text.rstrip("\n") + "\n\n" + block + "\n"
    else:
        text = "\n".join([
            "# Performance", "",
            "This page compares Latchkey, with its SQLite and PostgreSQL backends, against "
            "node-oidc-provider on the same machine: throughput of the main endpoints and flows, "
            "tail latency, memory use and start-up time, each set against the physical ceiling "
            "of the work it cannot avoid. The section between the markers is generated by "
            "`bench/report.py`; everything outside it is written by hand and kept on regeneration.",
            "", "## Reproduce", "", "```sh", "bash bench/run.sh",
            "python3 bench/report.py bench/out/results.json", "```", "",
            "Knobs (environment variables):", "",
            "- `BENCH_SECONDS`: seconds per run (default 10, at most 15)",
            "- `BENCH_RUNS`: runs per figure and system (default 3)",
            "- `BENCH_SKIP_SCALE=1`: skip the user-count scale runs",
            "- `BENCH_PG_URL`: PostgreSQL URL for the latchkey-postgres runs", "",
            block, "", "## What changed and what it gained", "", ""])
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def svg(d, keys, med):
    """Grouped horizontal bars. Units differ between figures, so each group is scaled to its
    own maximum and the real value is printed at the end of every bar."""
    W, X0, BAR, GAP, MAXW = 900, 120, 16, 4, 600
    esc = html.escape
    body, y = [], 84
    sections = [("Throughput (higher is better)", [k for k in keys if not unit_of(k)[1]]),
                ("Latency, memory and start-up (lower is better)",
                 [k for k in keys if unit_of(k)[1]])]
    for title, group in sections:
        group = [k for k in group if any(med[k][s] is not None for s in SYSTEMS)]
        if not group:
            continue
        body.append(f'<text x="20" y="{y}" class="h2">{esc(title)}</text>')
        y += 28
        for k in group:
            unit, lower = unit_of(k)
            body.append(f'<text x="20" y="{y}" class="g">{esc(FIGURES.get(k, k))}'
                        f'{" — lower is better" if lower else ""}</text>')
            y += 8
            top = max(med[k][s] or 0 for s in SYSTEMS) or 1
            for s in SYSTEMS:
                v = med[k][s]
                w = 0 if v is None else max(1.0, MAXW * v / top)
                body.append(f'<text x="{X0 - 8}" y="{y + 12}" class="s" text-anchor="end">'
                            f'{esc(SHORT[s])}</text>')
                body.append(f'<rect x="{X0}" y="{y}" width="{w:.1f}" height="{BAR}" '
                            f'fill="{COLOURS[s]}"/>')
                body.append(f'<text x="{X0 + w + 6:.1f}" y="{y + 12}" class="v">'
                            f'{esc(fmt(v, unit if v is not None else ""))}</text>')
                y += BAR + GAP
            y += 18
        y += 8
    legend = []
    for i, s in enumerate(SYSTEMS):
        name = f"peer ({peer_version(d)})" if s == "peer" else f"Latchkey {SHORT[s]}"
        lx = 20 + i * 230
        legend.append(f'<rect x="{lx}" y="46" width="14" height="14" fill="{COLOURS[s]}"/>'
                      f'<text x="{lx + 20}" y="58" class="s">{esc(name)}</text>')
    head = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{y}" '
            f'viewBox="0 0 {W} {y}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">',
            "<style>.h1{font-size:18px;font-weight:bold}.h2{font-size:15px;font-weight:bold}"
            ".g{font-size:13px;fill:#222}.s{font-size:12px;fill:#333}.v{font-size:12px;fill:#111}"
            "</style>",
            f'<rect width="{W}" height="{y}" fill="#fff"/>',
            f'<text x="20" y="28" class="h1">Latchkey vs node-oidc-provider — '
            f'{esc(str(d.get("date", "")))}</text>']
    return "\n".join(head + legend + body + ["</svg>", ""])


def summary(keys, med, tgts):
    """Plain-text table for the terminal: the same medians, no markup."""
    rows = [["Figure", "SQLite", "PostgreSQL", "peer", "SQLite vs peer", "PG vs peer"]]
    rows += [[label(k)] + [fmt(med[k][s]) for s in SYSTEMS]
             + [versus(k, med[k][s], med[k]["peer"]) for s in LK] for k in keys]
    rows += [[""] * 6, ["Target", "", "", "", "SQLite", "PostgreSQL"]]
    rows += [[f"{lab} {tgt}", "", "", ""] + [f"{res[s][0]} {verdict(res[s][1])}" for s in LK]
             for lab, tgt, res in tgts]
    widths = [max(len(r[i]) for r in rows) for i in range(6)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: python3 bench/report.py bench/out/results.json")
    with open(sys.argv[1], encoding="utf-8") as f:
        d = json.load(f)
    keys, med = analyse(d)
    ceil = ceilings(d)
    tgts = list(targets(d, med, ceil))
    os.makedirs(os.path.join(ROOT, "docs"), exist_ok=True)
    write_markdown(os.path.join(ROOT, "docs", "PERFORMANCE.md"), markdown(d, keys, med, ceil, tgts))
    with open(os.path.join(ROOT, "docs", "perf.svg"), "w", encoding="utf-8") as f:
        f.write(svg(d, keys, med))
    print(summary(keys, med, tgts))


if __name__ == "__main__":
    main()
