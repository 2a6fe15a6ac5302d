"""fer-bench: benchmark harness for general facial-expression encoders."""
__version__ = "0.1.0"
