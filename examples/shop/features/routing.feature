@shop @routing
Feature: An outage of the shop pages the right people, and only them
  Acme Shop's own configs (examples/shop/stack), run as written and time-scaled by alertdrill:
  ShopServiceDown fires after 1 minute of `up == 0`; critical alerts page on-call through
  PagerDuty and continue to the owning team's Slack; e-mail gets whatever no team claims.

  Background:
    Given the stack is running

  Scenario: checkout goes down: on-call and the payments team are paged, the web team is not
    When the service "checkout" is stopped
    Then the alert "ShopServiceDown" with labels service=checkout fires within 2 minutes
    And "shop-oncall" is notified via pagerduty of "ShopServiceDown" within 3 minutes
    And "payments-team" is notified via slack of "ShopServiceDown" within 3 minutes
    And "payments-team" is notified via webhook of "ShopServiceDown" within 3 minutes
    And "storefront-team" is never notified of "ShopServiceDown" within 3 minutes
    When the service "checkout" is started again
    Then the alert "ShopServiceDown" resolves within 2 minutes
    And "payments-team" is notified that "ShopServiceDown" resolved within 8 minutes

  Scenario: the storefront goes down: its team hears of it on Slack, on-call on PagerDuty
    When the service "storefront" is killed
    Then only "shop-oncall" and "storefront-team" are notified of "ShopServiceDown" within 3 minutes
    And "storefront-team" is notified via slack of "ShopServiceDown" within 3 minutes
