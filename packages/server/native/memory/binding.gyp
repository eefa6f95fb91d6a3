{
  "targets": [
    {
      "target_name": "reprise_memory",
      "sources": ["memory_binding.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
