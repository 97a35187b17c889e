"""The sign-in form (Flask-WTF: CSRF token included)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import InputRequired, Length


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[InputRequired("Enter your email."),
                                            Length(max=254, message="That email is too long.")])
    password = PasswordField("Password", validators=[
        InputRequired("Enter your password."),
        Length(max=1024, message="That password is too long."),
    ])
    next = HiddenField()
