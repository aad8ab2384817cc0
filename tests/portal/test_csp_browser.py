"""Every page passes its Content-Security-Policy in a real Chromium: no inline script, no inline style,
nothing from another site; and the scripts that moved to files still work."""
import pytest
from playwright.sync_api import expect

from tests.configuration.factories import BasicConfigurationFactory, StoreConnectionFactory
from tests.sync.factories import RunFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile + ":" + e.lineNumber);
});
"""


def test_pages_pass_the_content_security_policy(page, live_server, django_user_model):
    django_user_model.objects.create_superuser("root", "root@example.test", "pw-root-portal")
    store = BasicConfigurationFactory(store=StoreConnectionFactory(name="csp-store")).store
    run = RunFactory(store=store)
    messages = []
    page.on("console", lambda message: messages.append(message.text))
    page.add_init_script(RECORD_VIOLATIONS)

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", "pw-root-portal")
    page.click("button:has-text('Log in')")
    expect(page.locator("h1")).to_have_text("Stores")

    paths = [
        "/", "/stores/", f"/stores/{store.pk}/basic/", f"/stores/{store.pk}/cart/", f"/stores/{store.pk}/sync/",
        f"/stores/{store.pk}/logs/", "/runs/", f"/runs/{run.pk}/", "/intellitrack/inventory/",
        "/intellitrack/items/", "/intellitrack/orders/", "/api/tokens/", "/security/lockouts/", "/api/docs/",
        "/admin/", "/admin/intellitrack/item/", "/admin/intellitrack/item/add/", "/admin/auth/user/",
    ]
    violations = {}
    for path in paths:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        page.wait_for_load_state("networkidle")
        found = page.evaluate("window.__cspViolations")
        if found:
            violations[path] = found
    assert violations == {}, violations
    assert not [text for text in messages if "Content Security Policy" in text], messages

    # Swagger UI's start-up script (a file now) still renders the operations.
    page.goto(f"{live_server.url}/api/docs/")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()

    # The job buttons' script (a file now) still runs: a refusal comes back as JSON into the page.
    page.goto(f"{live_server.url}/stores/{store.pk}/sync/")
    page.locator("form.job-form[data-job=import_products] button.job-button").click()
    refusal = page.locator("form.job-form[data-job=import_products] .job-refusal")
    expect(refusal).to_be_visible()
    expect(refusal).to_contain_text("Save the Basic Configuration first")
    assert page.evaluate("window.__cspViolations") == []
