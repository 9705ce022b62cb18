"""alukit.training.runs / train.CODE_VERSION: a run is stale exactly when the code it trains with changes."""
from alukit import codeversion
from alukit.training import config, engine, runs, train


def test_the_run_key_follows_the_code_version():
    cfg, _, n = train.resolve("dense", "faithful", "quick")
    key = runs.run_key(cfg, n, 0, "data", False, train.CODE_VERSION)
    assert key == runs.run_key(cfg, n, 0, "data", False, train.CODE_VERSION)
    assert key != runs.run_key(cfg, n, 0, "data", False, "another-version")


def test_the_training_version_is_the_code_that_train_reaches():
    """Stable when computed twice; it covers the engine, the configurations and the run records, not the pool."""
    assert train.CODE_VERSION == codeversion.code_version(train.train)
    reached = set(codeversion.reached(train.train))
    assert "run_all" not in reached and "train_many" not in reached
    assert {"run_key", "save", "load", "fit", "make_config", "Config.scaled", "build_ensemble"} <= reached
    assert codeversion.code_version(engine.fit) != codeversion.code_version(config.make_config)
