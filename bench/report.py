"""The gateway benchmark's report: ``bench.json`` (everything measured), ``bench.md`` (tables
and the targets) and ``latency.png`` (the distributions). ``python -m bench.report`` redraws
the Markdown and the plot from an existing ``bench.json``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPORTS = Path(__file__).resolve().parent / "reports"
LABELS = {
    "direct": "direct",
    "floor": "gateway, no detectors (floor)",
    "patterns": "gateway, patterns",
    "model": "gateway, model",
    "model_nocache": "gateway, model, cache off",
    "model_1thread": "gateway, model, 1 thread",
    "patterns_nocache": "gateway, patterns, cache off",
}
COLORS = {
    "direct": "#444444",
    "floor": "#2ca02c",
    "patterns": "#1f77b4",
    "model": "#d62728",
    "model_nocache": "#ff9896",
    "model_1thread": "#9467bd",
    "patterns_nocache": "#aec7e8",
}


def _f(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _s(value: float | None, digits: int = 1) -> str:
    """Signed: an added latency."""
    return "–" if value is None else f"{value:+.{digits}f}"


def targets(r: dict) -> list[tuple[str, str, str, bool | None]]:
    """(target, measured, note, met) rows."""
    rows: list[tuple[str, str, str, bool | None]] = []
    lat = r["latency"]["2048"]["new"]["targets"]
    floor = lat.get("floor", {}).get("added", {})
    fnote = f"new text each; floor {_s(floor.get('p50'))} / {_s(floor.get('p99'))} ms"
    if "model" in lat:
        a = lat["model"]["added"]
        rows.append(
            ("2 KB request, model: +≤ 25 ms p50", f"{_s(a['p50'])} ms", fnote, a["p50"] <= 25)
        )
        rows.append(
            ("2 KB request, model: +≤ 60 ms p99", f"{_s(a['p99'])} ms", fnote, a["p99"] <= 60)
        )
    else:
        a = lat["patterns"]["added"]
        rows.append(
            (
                "2 KB request, model: +≤ 25 / 60 ms p50 / p99",
                f"patterns only: {_s(a['p50'])} / {_s(a['p99'])} ms",
                "model not measured (file absent); " + fnote,
                None,
            )
        )
    conv = r["conversation"]["targets"]
    for name in ("model", "patterns"):
        if name in conv:
            turn10 = conv[name]["added_by_turn"][-1]["p50"]
            turn1 = conv[name]["added_by_turn"][0]["p50"]
            rows.append(
                (
                    f"turn 10 of a conversation ({LABELS[name]}): +≤ 5 ms",
                    f"{_s(turn10)} ms (turn 1: {_s(turn1)} ms)",
                    "p50; each turn adds ~300 B of new personal data; floor "
                    f"{_s(conv['floor']['added_by_turn'][-1]['p50']) if 'floor' in conv else '–'}"
                    " ms",
                    turn10 <= 5,
                )
            )
    st = r["streaming"]["targets"]
    for name in ("model", "patterns"):
        if name in st and "first_event_added_ms" in st[name]:
            path = st[name]["first_event_added_ms"]
            cached, new = st[name]["ttft_added_ms_cached"], st[name]["ttft_added_ms_new"]
            floor_path = st.get("floor", {}).get("first_event_added_ms", {}).get("p50")
            rows.append(
                (
                    f"time to first token ({LABELS[name]}): +≤ 5 ms",
                    f"{_s(path['p50'])} ms p50, {_s(path['p95'])} ms p95 on the answer's path",
                    "provider's first content event → client (floor "
                    f"{_s(floor_path)} ms). End to end, request masking included: "
                    f"{_s(new['p50'])} ms with a new {r['streaming']['text_chars']}-char prompt, "
                    f"{_s(cached['p50'])} ms with that prompt cached and one new short message",
                    path["p50"] <= 5,
                )
            )
    rows_t = r["throughput"]["rows"]
    for name in ("model", "model_1thread", "patterns"):
        mine = [x for x in rows_t if x["target"] == name]
        if mine:
            best = max(mine, key=lambda x: x["rps"])
            rows.append(
                (
                    f"≥ 40 req/s at 1 KB ({LABELS[name]})",
                    f"{best['rps']} req/s (c={best['concurrency']})",
                    ", ".join(f"c={x['concurrency']}: {x['rps']}" for x in mine),
                    best["rps"] >= 40,
                )
            )
    p = r.get("presidio")
    if p and "presidio" in p["engines"]:
        pr = p["engines"]["presidio"]
        name = "doppel-model" if "doppel-model" in p["engines"] else "doppel-patterns"
        d = p["engines"][name]
        for unit, key in (
            ("2 KB prompts", "prompts_mask_docs_per_s"),
            ("short sentences", "sentences_mask_docs_per_s"),
        ):
            ratio = d[key] / max(pr[key], 1e-9)
            rows.append(
                (
                    f"≥ 5× Presidio docs/s at higher recall ({unit}, {name})",
                    f"{ratio:.1f}×, recall {d['recall']:.3f} vs {pr['recall']:.3f}",
                    f"{d[key]} vs {pr[key]} docs/s, detect + mask",
                    ratio >= 5 and d["recall"] > pr["recall"],
                )
            )
    return rows


def headline(r: dict) -> list[str]:
    """The short table for the README: floor, patterns only and with the model."""
    names = [
        n for n in ("floor", "patterns", "model") if n in r["latency"]["2048"]["new"]["targets"]
    ]
    lat = {size: r["latency"][size]["new"]["targets"] for size in r["latency"]}
    conv = r["conversation"]["targets"]
    st = r["streaming"]["targets"]
    rows = r["throughput"]["rows"]

    def rps(name: str) -> str:
        mine = {x["concurrency"]: x["rps"] for x in rows if x["target"] == name}
        return " / ".join(f"{mine.get(c, '–')}" for c in sorted(mine))

    concs = " / ".join(str(c) for c in sorted({x["concurrency"] for x in rows}))
    out = [
        "| added to a request (p50 / p99 ms) | " + " | ".join(LABELS[n] for n in names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for size in lat:
        cells = [
            f"{_s(lat[size][n]['added']['p50'])} / {_s(lat[size][n]['added']['p99'])}"
            for n in names
        ]
        out.append(
            f"| {int(size) / 1024:g} KB chat request, new text | " + " | ".join(cells) + " |"
        )
    out.append(
        "| turn 10 of a conversation (p50) | "
        + " | ".join(_s(conv[n]["added_by_turn"][-1]["p50"]) for n in names if n in conv)
        + " |"
    )
    if all("first_event_added_ms" in st.get(n, {}) for n in names):
        out.append(
            "| first token, the answer's path (p50) | "
            + " | ".join(_s(st[n]["first_event_added_ms"]["p50"]) for n in names)
            + " |"
        )
    out.append(
        "| every streamed event (p50 / p99) | "
        + " | ".join(
            f"{_s(st[n]['event_added_ms']['p50'], 2)} / {_s(st[n]['event_added_ms']['p99'], 2)}"
            for n in names
        )
        + " |"
    )
    out.append(
        f"| requests/s, 1 KB prompts, concurrency {concs} | "
        + " | ".join(rps(n) for n in names)
        + " |"
    )
    p = r.get("presidio")
    if p and "presidio" in p["engines"]:
        pr = p["engines"]["presidio"]
        cells = []
        for n in names:
            e = p["engines"].get(f"doppel-{n}")
            cells.append(
                "–"
                if e is None
                else f"{e['prompts_mask_docs_per_s'] / pr['prompts_mask_docs_per_s']:.1f}× / "
                f"{e['recall']:.2f}"
            )
        out.append(
            f"| vs Presidio (recall {pr['recall']:.2f}): docs/s ratio on 2 KB, recall | "
            + " | ".join(cells)
            + " |"
        )
    return out


def markdown(r: dict) -> str:
    m = r["machine"]
    model = r["model"]
    lines = [
        "# Gateway benchmark",
        "",
        f"`{r['command']}` ({r['seconds']:.0f} s), commit {m['commit']}, {m['date']}.",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_mb'] // 1024} GiB, Python "
        f"{m['python']}; load average {m['loadavg_start'][0]} at the start, "
        f"{m.get('loadavg_end', ['?'])[0]} at the end (the machine is shared: other jobs ran).",
        "Model: "
        + (
            f"{model['file']} ({model.get('layers')}-layer int8, sha256 {model.get('sha256')})"
            if model
            else "**not measured** (`engine/model/model.int8.onnx` absent): patterns only"
        )
        + ".",
        "",
        "Everything runs on this one machine: the load generator (Python, one keep-alive "
        "connection per client, TCP_NODELAY), the echo provider, Envoy and Doppel share the "
        "same cores. Each comparison is interleaved (direct, floor, patterns, model in rotating "
        "order for each request), so noise hits all columns alike; the added latency is the "
        "gateway's percentile minus the direct percentile of the same run. *Floor*: the same "
        "gateway (Envoy, ext_proc server, codecs, logs) with an engine that has no detectors "
        "(`bench/floor.py`): what Envoy plus a Python ext_proc cost before Doppel does any "
        "work. *Patterns*: `DOPPEL_MODEL=0`; *model*: the default engine (patterns + NER).",
        "",
        "## Headline",
        "",
        *headline(r),
        "",
        "## Targets",
        "",
        "| target | measured | note | met |",
        "|---|---|---|:-:|",
    ]
    for target, measured, note, met in targets(r):
        mark = "–" if met is None else ("yes" if met else "**no**")
        lines.append(f"| {target} | {measured} | {note} | {mark} |")
    lines += [
        "",
        "## Added latency, one request (OpenAI chat, buffered answer)",
        "",
        "Every request carries a new text full of personal data (names, e-mails, phones, "
        "addresses, cards, IBANs, SSNs, IPs, dates of birth, passwords), so the detection cache "
        "never hits: this is what a new prompt costs. *cached*: the same text again (its "
        "detection cached; doubles, JSON and restore still run). Size = the user text.",
        "",
        "| size | case | target | n | p50 ms | p95 ms | p99 ms | added p50 | added p95 "
        "| added p99 | errors | not restored |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, entry in r["latency"].items():
        for case in ("new", "cached"):
            for name, t in entry[case]["targets"].items():
                s, a = t["summary"], t.get("added", {})
                lines.append(
                    f"| {int(size) // 1024 or 0.5} KB | {case} | {LABELS[name]} | {s['n']} | "
                    f"{_f(s['p50'])} | {_f(s['p95'])} | {_f(s['p99'])} | "
                    f"{_f(a.get('p50'))} | {_f(a.get('p95'))} | {_f(a.get('p99'))} | "
                    f"{t['errors']} | {t['not_restored']} |"
                )
    c = r["conversation"]
    cn = list(c["targets"])
    lines += [
        "",
        "## Conversation: 10 turns, the whole history resent each turn",
        "",
        f"{c['conversations']} conversations; each turn adds a user message of ~300 bytes with "
        "new personal data, and the answer (the echo) joins the history. Added latency at p50 "
        "(ms) per turn; body size grows from "
        f"{c['body_bytes_by_turn'][0]} to {c['body_bytes_by_turn'][-1]} bytes.",
        "",
        "| turn | body bytes | "
        + " | ".join(LABELS[n] for n in cn if n != "direct")
        + " | direct p50 ms |",
        "|---:|---:|" + "---:|" * len(cn),
    ]
    for t in range(len(c["body_bytes_by_turn"])):
        cells = [_f(c["targets"][n]["added_by_turn"][t]["p50"]) for n in cn if n != "direct"]
        direct = _f(c["targets"]["direct"]["by_turn"][t]["p50"], 2)
        lines.append(
            f"| {t + 1} | {c['body_bytes_by_turn'][t]} | " + " | ".join(cells) + f" | {direct} |"
        )
    lines += ["", f"Not restored: {c['not_restored']}; errors: {c['errors']}."]
    s = r["streaming"]
    lines += [
        "",
        "## Streaming: answers of 1,000 SSE events",
        "",
        f"**Time to first token**: the echo provider streams the user text ({s['text_chars']} "
        f"characters) back in 1,000 content events spread over {s['stream_seconds']:g} s "
        "(`x-echo-stream-seconds`), cut into random HTTP chunks; TTFT = request sent → first "
        f"content delta at the client; {s['ttft_n']} answers per target with a new prompt, and "
        "as many with the same prompt again (its detection cached) after one new short "
        "message (so, as in a conversation's next turn, there are still new doubles to make "
        "and a new restorer to build), each dropped after its first token. **First event** "
        "(the answer's path alone, what the TTFT target is judged on: the request's masking "
        "is the latency table's business): as many answers from `bench/sse_source.py` (below), "
        "again after a new short message; the delay from the source writing the first content "
        "event to the client reading it. **Every event**: `bench/sse_source.py` streams the "
        "same text as "
        f"1,000 events at {s['events_per_second']:g} events/s, one event per HTTP chunk as the "
        "real APIs send them, each stamped with the time it was written; the delay is stamp → "
        f"arrival at the client, over {s['reps']} whole answer(s) per target (the restorer "
        "may hold back the start of a possible double until the next event: that wait is in "
        "the later event's delay). **Burst**: the echo provider's answer sent at once; the "
        "gateway's extra time over the stream, divided by the 1,000 events (CPU per event).",
        "",
        "| target | TTFT p50 / p95 ms, new prompt | added p50 | TTFT p50 / p95 ms, cached "
        "prompt | added p50 | first event p50 / p95 ms | added p50 / p95 "
        "| every event p50 / p99 ms | added p50 / p99 | burst µs per event |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, t in s["targets"].items():
        d = t["event_delay_ms"]
        fd = t.get("first_event_delay_ms", {})
        an, ac = t.get("ttft_added_ms_new", {}), t.get("ttft_added_ms_cached", {})
        ae, af = t.get("event_added_ms", {}), t.get("first_event_added_ms", {})
        lines.append(
            f"| {LABELS[name]} | {_f(t['ttft_ms_new']['p50'])} / {_f(t['ttft_ms_new']['p95'])} "
            f"| {_f(an.get('p50'))} | {_f(t['ttft_ms_cached']['p50'])} / "
            f"{_f(t['ttft_ms_cached']['p95'])} | {_f(ac.get('p50'))} | "
            f"{_f(fd.get('p50'), 2)} / {_f(fd.get('p95'), 2)} | {_f(af.get('p50'), 2)} / "
            f"{_f(af.get('p95'), 2)} | "
            f"{_f(d['p50'], 2)} / {_f(d['p99'], 2)} | {_f(ae.get('p50'), 2)} / "
            f"{_f(ae.get('p99'), 2)} | {t.get('per_event_us_burst', '–')} |"
        )
    lines += [
        "",
        f"Content events per answer: {s['events_per_answer']}. Not restored: "
        f"{s['not_restored']}; errors: {s['errors']}.",
    ]
    th = r["throughput"]
    lines += [
        "",
        f"## Throughput: closed loop, 1 KB prompts ({th['prompt_bytes']} bytes, new each)",
        "",
        "Buffered answers, each checked to come back restored. RSS: Doppel + its Envoy (idle "
        "before the load: "
        + ", ".join(f"{LABELS[k]} {v} MB" for k, v in r["rss_mb_idle"].items())
        + ").",
        "",
        "| concurrency | target | req/s | 200 OK | errors | not restored | p50 ms | p99 ms "
        "| RSS max MB |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in th["rows"]:
        lat = row["latency_ms"]
        lines.append(
            f"| {row['concurrency']} | {LABELS[row['target']]} | {row['rps']} | {row['ok']} | "
            f"{row['errors']} | {row['not_restored']} | {_f(lat['p50'])} | {_f(lat['p99'])} | "
            f"{_f(row['rss_mb_max'])} |"
        )
    p = r.get("presidio")
    if p:
        lines += [
            "",
            "## Side by side with Microsoft Presidio",
            "",
            f"Quality: the first {p['sentences']} sentences of presidio-research's synthetic "
            "set (never trained on), personal-data labels, Doppel's scorer (`bench/quality.py`: "
            "a gold entity is caught only when the union of predicted spans covers every letter "
            "and digit of it; a prediction is correct when it overlaps any gold span of any "
            f"label). Speed: documents per second, detect only and detect + mask "
            f"(Presidio: analyze + anonymize), on those sentences ({p['mask_sentences']} for "
            f"mask) and on {p['prompts']} of this benchmark's ~{p['prompt_bytes']}-byte prompts; "
            "each engine in its own process, the same chunks of texts handed to each in turn; "
            "Doppel with its detection cache off.",
            "",
            "| engine | recall | precision | sentences detect/s | sentences mask/s "
            "| 2 KB detect/s | 2 KB mask/s |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for name, e in p["engines"].items():
            lines.append(
                f"| {name} | {e['recall']:.3f} | {e['precision']:.3f} | "
                f"{e['sentences_detect_docs_per_s']} | {e['sentences_mask_docs_per_s']} | "
                f"{e['prompts_detect_docs_per_s']} | {e['prompts_mask_docs_per_s']} |"
            )
        labels = sorted({k for e in p["engines"].values() for k in e["recall_by_label"]})
        lines += [
            "",
            "Recall by gold label:",
            "",
            "| label | " + " | ".join(p["engines"]) + " |",
            "|---|" + "---:|" * len(p["engines"]),
        ]
        for label in labels:
            cells = [_f(e["recall_by_label"].get(label), 3) for e in p["engines"].values()]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        versions = "; ".join(f"{k}: {e['version']}" for k, e in p["engines"].items())
        lines += ["", f"Versions: {versions}."]
        if "presidio_missing" in p:
            lines += ["", f"Presidio not measured: {p['presidio_missing']}."]
    lines += ["", f"Sanity (masked on the way out, restored on the way back): {r['sanity']}.", ""]
    return "\n".join(lines)


def _event_counts(s: dict) -> str:
    counts = sorted({n for v in s["events_per_answer"].values() for n in v})
    if not counts:
        return "?"
    return str(counts[0]) if len(counts) == 1 else f"{counts[0]}–{counts[-1]}"


def plot(r: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(13, 7.2), dpi=80)
    for ax, (size, entry) in zip(axes[0], r["latency"].items()):
        for name, t in entry["new"]["targets"].items():
            q = t["quantiles"]
            if q:
                ax.plot(
                    q,
                    [i / (len(q) - 1) for i in range(len(q))],
                    color=COLORS[name],
                    label=LABELS[name],
                )
        ax.set_xscale("log")
        ax.set_title(f"{int(size) / 1024:g} KB chat request, new text each")
        ax.set_xlabel("latency ms (log)")
        ax.set_ylabel("fraction of requests")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    ax = axes[1][0]
    c = r["conversation"]
    turns = list(range(1, len(c["body_bytes_by_turn"]) + 1))
    for name, t in c["targets"].items():
        if name != "direct":
            ax.plot(
                turns,
                [x["p50"] for x in t["added_by_turn"]],
                marker="o",
                color=COLORS[name],
                label=LABELS[name],
            )
    ax.set_yscale("log")
    ax.set_title("conversation: added p50 per turn (log)")
    ax.set_xlabel("turn (whole history resent)")
    ax.set_ylabel("added ms")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, framealpha=0.6)
    ax = axes[1][1]
    for name, t in r["streaming"]["targets"].items():
        q = t.get("event_delay_quantiles")
        if q:
            ys = [i / (len(q) - 1) for i in range(len(q))]
            ax.plot(q, ys, color=COLORS[name], label=LABELS[name])
    ax.set_xscale("log")
    ax.set_title("streaming: per-event delay, source → client")
    ax.set_xlabel("ms (log)")
    ax.set_ylabel("fraction of events")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    ax = axes[1][2]
    rows = r["throughput"]["rows"]
    concs = sorted({x["concurrency"] for x in rows})
    names = list(dict.fromkeys(x["target"] for x in rows))
    width = 0.8 / max(1, len(names))
    for k, name in enumerate(names):
        ys = [
            next((x["rps"] for x in rows if x["target"] == name and x["concurrency"] == cc), 0)
            for cc in concs
        ]
        ax.bar(
            [i + k * width for i in range(len(concs))],
            ys,
            width,
            color=COLORS[name],
            label=LABELS[name],
        )
    ax.set_xticks([i + width * (len(names) - 1) / 2 for i in range(len(concs))])
    ax.set_xticklabels([f"c={cc}" for cc in concs])
    ax.set_yscale("log")
    top = max((x["rps"] for x in rows), default=1)
    ax.set_ylim(1, top * 30)
    ax.axhline(40, color="black", ls="--", lw=0.8)
    ax.set_title("throughput, 1 KB prompts (req/s, log)")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=6.5, loc="upper left", ncol=2)
    fig.suptitle(
        f"Doppel gateway vs direct — {r['machine']['cores']} cores, {r['machine']['date']}"
    )
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write(results: dict, out: Path = REPORTS) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(results, indent=1) + "\n")
    (out / "bench.md").write_text(markdown(results))
    plot(results, out / "latency.png")


def main() -> int:
    args = [a for a in sys.argv[1:] if a != "--headline"]
    out = Path(args[0]) if args else REPORTS
    results = json.loads((out / "bench.json").read_text())
    if "--headline" in sys.argv:
        print("\n".join(headline(results)))
        return 0
    (out / "bench.md").write_text(markdown(results))
    plot(results, out / "latency.png")
    print(f"wrote {out}/bench.md and {out}/latency.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
