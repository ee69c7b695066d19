import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_gives_two_setup_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    setup = readme.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```bash\n(.+?)\n```", setup, re.S)
    assert len(commands) == 2, commands
    install_and_demo, tests = commands
    assert "nas-optuna demo" in install_and_demo and "torch==2.14.1" in install_and_demo
    assert "pytest" in tests
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert tests in ci_lines
