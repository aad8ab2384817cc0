from django import forms
from knox.settings import CONSTANTS

from .selectors import api_token_users


class ApiTokenCreateForm(forms.Form):
    user = forms.ModelChoiceField(queryset=None, help_text="The token can do what this user's role may do.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = api_token_users()


class ApiTokenRevokeForm(forms.Form):
    token_key = forms.RegexField(regex=r"^[0-9a-f]+$", max_length=CONSTANTS.TOKEN_KEY_LENGTH)
    user = forms.IntegerField(min_value=1, max_value=2**63 - 1)
