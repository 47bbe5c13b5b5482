"""A real Zuul on one machine (`certkit lab up|down|status zuul`): ZooKeeper with TLS, Zuul's
scheduler, executor, web and launcher from Zuul's own cached venv, and a static build node in a
network namespace of the lab's own, all pointed at a Gerrit (the project's double in tests)."""
