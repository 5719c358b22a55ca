"""Service call graphs reconstructed from tracing logs."""

from __future__ import annotations


def hops(graph: dict[str, list[str]], start: str, goal: str) -> int:
    """Fewest calls needed to get from service ``start`` to service ``goal``.

    ``graph`` maps each service to the services it calls. Services that only appear as
    callees need not be keys. Returns ``0`` when ``start == goal`` and ``-1`` when ``goal``
    cannot be reached.
    """
    if start == goal:
        return 0
    seen = {start}
    distance = {start: 0}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for callee in graph.get(node, []):
            if callee in seen:
                continue
            seen.add(callee)
            distance[callee] = distance[node] + 1
            if callee == goal:
                return distance[callee]
            queue.append(callee)
    return -1
