"""Generate sequences of calls no recording had: ``python evolver_sequence_inputs.py SPEC``.

The stateful probe of issue 17. A class change can break a public answer only in an order of
calls the workload and the tests never made (``remove`` and then ``lookup`` of the same key,
where every recording looked up before it removed). From the recorded sequences this draws
new programs: a recorded constructor, then steps taken from the pool of every
``(method, arguments)`` step recorded on any object, in orders and mixes no single
recording had. Two shapes, alternating, so that both kinds of bug are reached:

- **splice**: a recorded sequence cut at a seeded point, one step of the pool put there,
  then the pool's steps in a seeded order: whatever a mutator leaves behind (an index it
  forgot), each query asked after it shows it;
- **walk**: a recorded constructor, then steps drawn from the pool at random: mutators
  interleaved with queries, a removal of what was never added.

``SPEC`` (JSON): ``calls`` (a calls file, see ``evolver_blobs``, of recorded sequences as
``evolver_sequence_recorder`` writes them), ``count``, ``max_steps`` (method calls per
sequence), ``seed`` and ``out``. Writes ``{"sequences": [...], "note": ...}``: each a base64
pickle of ``[(name, pickled (args, kwargs)), ...]``, the constructor first, exactly the
recorder's format, so ``evolver_sequences`` replays them unchanged. A recorded sequence is
never among them, nor is any twice.

Drawn with a seeded ``random.Random``, not hypothesis: the programs are data only (no code
runs while they are drawn, so nothing needs shrinking or feedback), and the same recordings
give the same programs byte for byte. It unpickles only the sequences' outer lists (names
and opaque argument pickles), never the arguments: nothing of the project is imported.
Stdlib only; it runs in the original's sandbox, never a candidate's.
"""

from __future__ import annotations

import base64
import json
import pickle
import random
import sys

from evolver_blobs import load_calls
from evolver_sequences import _steps

Step = tuple[str, bytes]  # (method name, pickled (args, kwargs))
MAX_BYTES = 32 * 1024 * 1024  # of every sequence drawn together
_ATTEMPTS = 20  # draws per sequence asked: most are new, but a tiny pool repeats itself


class Pool:
    """What the recordings offer: their sequences, constructors, and every method step."""

    def __init__(self, recorded: list[list[Step]]) -> None:
        self.recorded = recorded
        self.constructors: list[Step] = list(dict.fromkeys(steps[0] for steps in recorded))
        self.steps: list[Step] = list(
            dict.fromkeys(step for steps in recorded for step in steps[1:])
        )

    def splice(self, chance: random.Random, max_steps: int) -> list[Step]:
        """A recorded sequence cut somewhere, one pool step there, then the pool's steps."""
        base = chance.choice(self.recorded)
        cut = chance.randint(1, min(len(base), max_steps))  # the spliced step is kept
        after = chance.sample(self.steps, len(self.steps))
        program = [*base[:cut], chance.choice(self.steps), *after]
        return program[: max_steps + 1]

    def walk(self, chance: random.Random, max_steps: int) -> list[Step]:
        """A recorded constructor, then steps drawn from the pool, with repeats."""
        length = chance.randint(1, max_steps)
        return [chance.choice(self.constructors), *chance.choices(self.steps, k=length)]


def readable(blobs: list[bytes]) -> list[list[Step]]:
    """The recorded sequences that are sequences (``evolver_sequences``' own check)."""
    found = []
    for blob in blobs:
        try:
            found.append(_steps(blob))
        except Exception:  # a sequence that would replay nothing offers nothing either
            continue
    return found


def generate(pool: Pool, count: int, max_steps: int, seed: str) -> list[bytes]:
    """Up to ``count`` new sequences (pickled as the recorder pickles them), in draw order."""
    if not pool.steps or count <= 0 or max_steps <= 0:
        return []
    chance = random.Random(seed)
    known = {tuple(steps) for steps in pool.recorded}
    drawn: list[bytes] = []
    size = 0
    for attempt in range(count * _ATTEMPTS):
        shape = pool.splice if attempt % 2 == 0 else pool.walk
        program = shape(chance, max_steps)
        if tuple(program) in known:
            continue
        known.add(tuple(program))
        blob = pickle.dumps(program, protocol=pickle.HIGHEST_PROTOCOL)
        if size + len(blob) > MAX_BYTES:
            break
        drawn.append(blob)
        size += len(blob)
        if len(drawn) == count:
            break
    return drawn


def _note(pool: Pool, drawn: list[bytes]) -> str | None:
    """Why nothing was drawn, when nothing was."""
    if drawn:
        return None
    if not pool.recorded:
        return "no recorded sequence to draw from"
    if not pool.steps:
        return "the recorded sequences call no method after their constructor"
    return "every sequence drawn was one already recorded"


def main(spec_path: str) -> None:
    with open(spec_path) as text:
        spec = json.load(text)
    try:
        pool = Pool(readable(load_calls(spec["calls"])))
        drawn = generate(pool, spec["count"], spec["max_steps"], str(spec["seed"]))
        note = _note(pool, drawn)
    except Exception as error:
        drawn, note = [], f"cannot generate sequences: {type(error).__name__}: {error}"
    with open(spec["out"], "w") as out:
        json.dump(
            {
                "sequences": [base64.b64encode(blob).decode() for blob in drawn],
                "note": None if note is None else note[:300],
            },
            out,
        )


if __name__ == "__main__":
    main(sys.argv[1])
