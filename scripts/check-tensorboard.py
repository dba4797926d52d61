#!/usr/bin/env python3
"""Checks a run's TensorBoard event files against its metrics.jsonl, reading them with
TensorBoard's own EventAccumulator, so what passes here is what `tensorboard --logdir` shows.
Run it through scripts/check-tensorboard.sh, which provides tensorboard in a virtual environment.

Expected layout, written by the run writer:
  RUN/tensorboard/seed-<N>/events.out.tfevents.*   one TensorBoard run per seed
  scalar stage<S>/em/<subset>   step = epoch   one per metrics.jsonl record with "em"
  scalar stage<S>/train_loss    step = epoch   one per metrics.jsonl record with "train_loss"
  text   settings               the content of RUN/config.json

Every record must have an equal scalar and every scalar an equal record. Scalars are float32
(simple_value), hence a relative tolerance of 1e-6. Exit status: 0 all match, 1 mismatch,
2 the run directory is not usable.
"""

import json
import math
import re
import sys
from collections import defaultdict
from pathlib import Path

from tensorboard.backend.event_processing import event_accumulator

RELATIVE_TOLERANCE = 1e-6
SHOWN_PROBLEMS = 25
# 0 keeps every event; the defaults sample scalars down to 10,000 and tensors down to 10.
KEEP_EVERYTHING = {event_accumulator.SCALARS: 0, event_accumulator.TENSORS: 0}
SEED_DIRECTORY = re.compile(r"seed-(-?\d+)")


def usage_error(message):
    print(f"tensorboard check: {message}", file=sys.stderr)
    sys.exit(2)


def values_match(expected, actual):
    if math.isnan(expected) or math.isnan(actual):
        return math.isnan(expected) and math.isnan(actual)
    if math.isinf(expected) or math.isinf(actual):
        return expected == actual
    return abs(actual - expected) <= RELATIVE_TOLERANCE * max(abs(expected), abs(actual))


def expected_scalars(metrics_path, problems):
    """{(seed, tag, step): [values]} from metrics.jsonl."""
    expected = defaultdict(list)
    with metrics_path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = f"{metrics_path}:{number}"
            try:
                record = json.loads(line)
                seed, stage, epoch = int(record["seed"]), int(record["stage"]), int(record["epoch"])
                if "em" in record:
                    key = (seed, f"stage{stage}/em/{record['subset']}", epoch)
                    expected[key].append(float(record["em"]))
                elif "train_loss" in record:
                    expected[(seed, f"stage{stage}/train_loss", epoch)].append(float(record["train_loss"]))
                else:
                    problems.append(f"{where}: record has neither em nor train_loss")
            except (ValueError, KeyError, TypeError) as error:
                problems.append(f"{where}: not a metrics record ({type(error).__name__}: {error})")
    return expected


def settings_match(text, config_text):
    if text.strip() == config_text.strip():
        return True
    # The writer may wrap the JSON in a Markdown code fence so TensorBoard shows it verbatim.
    unfenced = re.sub(r"^\s*```[a-z]*\n(.*)\n```\s*$", r"\1", text, flags=re.DOTALL)
    try:
        return json.loads(unfenced) == json.loads(config_text)
    except ValueError:
        return False


def read_run(directory, seed, config_text, actual, problems):
    """Adds the run's scalars to `actual`; returns how many scalar events it holds."""
    accumulator = event_accumulator.EventAccumulator(str(directory), size_guidance=KEEP_EVERYTHING)
    accumulator.Reload()
    if accumulator.file_version != 2:
        problems.append(f"{directory}: file_version is {accumulator.file_version}, expected brain.Event:2")

    tags = accumulator.Tags()
    count = 0
    for tag in tags[event_accumulator.SCALARS]:
        for event in accumulator.Scalars(tag):
            actual[(seed, tag, event.step)].append(event.value)
            count += 1

    if "settings" not in tags[event_accumulator.TENSORS]:
        problems.append(f"{directory}: no text summary 'settings'")
    elif "settings" not in accumulator.PluginTagToContent("text"):
        problems.append(f"{directory}: 'settings' is not marked for the text plugin")
    else:
        events = accumulator.Tensors("settings")
        texts = [value.decode("utf-8") for event in events for value in event.tensor_proto.string_val]
        # A missing config.json is reported once by the caller.
        if config_text is not None and not any(settings_match(text, config_text) for text in texts):
            problems.append(f"{directory}: the 'settings' text differs from config.json")
    return count


def main(argv):
    if len(argv) != 2:
        usage_error(f"usage: {argv[0]} RUN_DIR")
    run = Path(argv[1])
    metrics_path, config_path, tensorboard_dir = run / "metrics.jsonl", run / "config.json", run / "tensorboard"
    for required in (metrics_path, tensorboard_dir):
        if not required.exists():
            usage_error(f"{required} does not exist; pass a run directory written with TensorBoard output")

    problems = []
    config_text = None
    if config_path.exists():
        config_text = config_path.read_text(encoding="utf-8")
    else:
        problems.append(f"{config_path} does not exist, so the settings text cannot be checked")
    expected = expected_scalars(metrics_path, problems)

    event_files = sorted(path for path in tensorboard_dir.rglob("*") if path.is_file() and "tfevents" in path.name)
    run_directories = sorted({path.parent for path in event_files})
    actual = defaultdict(list)
    scalar_count = 0
    seeds_with_runs = set()
    for directory in run_directories:
        match = SEED_DIRECTORY.fullmatch(directory.name)
        if directory.parent != tensorboard_dir or not match:
            problems.append(f"{directory}: event files belong in {tensorboard_dir}/seed-<N>/")
            continue
        seed = int(match.group(1))
        seeds_with_runs.add(seed)
        scalar_count += read_run(directory, seed, config_text, actual, problems)

    for seed in sorted({key[0] for key in expected} - seeds_with_runs):
        problems.append(f"seed {seed} has records in metrics.jsonl but no event files in {tensorboard_dir}/seed-{seed}/")

    for key in sorted(set(expected) | set(actual)):
        seed, tag, step = key
        if seed not in seeds_with_runs:
            continue  # already reported as a missing run
        wanted, found = sorted(expected.get(key, [])), sorted(actual.get(key, []))
        where = f"seed {seed} {tag} step {step}"
        if not found:
            problems.append(f"{where}: metrics.jsonl has {wanted} but TensorBoard has no scalar")
        elif not wanted:
            problems.append(f"{where}: TensorBoard has {found} but metrics.jsonl has no record")
        elif len(wanted) != len(found) or not all(map(values_match, wanted, found)):
            problems.append(f"{where}: metrics.jsonl has {wanted}, TensorBoard has {found}")

    runs = len(run_directories)
    if problems:
        for problem in problems[:SHOWN_PROBLEMS]:
            print(problem, file=sys.stderr)
        if len(problems) > SHOWN_PROBLEMS:
            print(f"... and {len(problems) - SHOWN_PROBLEMS} more", file=sys.stderr)
        print(f"tensorboard check: FAILED with {len(problems)} problem{'' if len(problems) == 1 else 's'} "
              f"({scalar_count} scalars in {runs} runs, {sum(map(len, expected.values()))} metrics records)")
        return 1
    if scalar_count == 0:
        print(f"tensorboard check: FAILED, no scalars in {tensorboard_dir} and no records in {metrics_path}")
        return 1
    print(f"tensorboard check: {scalar_count} scalars in {runs} runs match metrics.jsonl")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
