"""What a command runs on: the databases (embedded or configured), Milvus, the environment its
processes share, and the supervisor of `azak demo` and `azak serve`."""
