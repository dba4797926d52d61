print("mnist-iml: not yet")
