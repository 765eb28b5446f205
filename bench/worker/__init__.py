"""The worker: the only code that imports a framework (TensorFlow, PyTorch, JAX).

A fresh process per job (`bench.protocol` says how it is started and what it writes back), so
that each run's framework, thread settings and device are its own.

- `training`: one workload run, timed per epoch (`clock`), with the cross-check (`crosscheck`)
  and the input-versus-compute throughputs (`throughputs`);
- `backends`: every per-backend branch; `software`: what the framework reports of itself;
- `workloads`: the article's models; `pipelines`: the input pipelines that feed them;
- `probes`: the Geekbench-style probe kernels, one section per process.
"""
