print("text-iml: not yet")
