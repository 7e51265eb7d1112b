print("sessiond")
