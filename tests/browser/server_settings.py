"""Settings of the daphne the browser tests start: the project's, with the tests' fast password hasher.

tests/conftest.py hashes test passwords with MD5 (PBKDF2 is slow on purpose); the server checking
those passwords must know that hasher too.
"""

from hospital_iot.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# the tests sign sessions in their own process (a logged-in browser without the login form)
SECRET_KEY = "hospital-iot-browser-tests-only"
