"""The readers: judgements over stored results files, never a framework or a process.

- `comparison`: two machines or setups, workload by workload (``benchbook compare``, ``share``);
- `verdicts`: did a run train right; `bottleneck`: input-bound or compute-bound;
- `reference`: the probes' reference machine and its scores; `standings`: where a machine ranks.
"""
