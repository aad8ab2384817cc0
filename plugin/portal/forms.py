from django import forms


class LockoutResetForm(forms.Form):
    username = forms.CharField(max_length=150)
