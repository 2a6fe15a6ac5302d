"""fer-bench's protocols (installed as ``fer_bench.protocols``): one module per protocol."""
