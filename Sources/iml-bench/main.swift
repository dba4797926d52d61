print("iml-bench: not yet")
