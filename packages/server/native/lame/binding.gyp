{
  "targets": [
    {
      "target_name": "reprise_lame",
      "sources": ["lame_binding.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "libraries": ["-lmp3lame"]
    }
  ]
}
