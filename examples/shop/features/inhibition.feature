@shop @inhibition
Feature: When the payment gateway is down, checkout's errors are a symptom, not a page
  The inhibit rule of alertmanager.yml: ShopServiceDown of payments-gateway hides
  CheckoutErrorRate of the same system.

  Background:
    Given the stack is running

  Scenario: the gateway is down and checkout fails: one page, for the cause
    When the service "payments-gateway" is stopped
    And the 5xx rate of "checkout" is raised to 50 %
    Then the alert "CheckoutErrorRate" fires within 4 minutes
    And "CheckoutErrorRate" is inhibited within 3 minutes
    And "payments-team" is notified of "ShopServiceDown" within 3 minutes
    And "payments-team" is never notified of "CheckoutErrorRate" within 4 minutes

  Scenario: without the gateway outage, checkout's errors page on their own
    When the 5xx rate of "checkout" is raised to 50 %
    Then "shop-oncall" is notified of "CheckoutErrorRate" within 6 minutes
    And "payments-team" is notified via slack of "CheckoutErrorRate" within 6 minutes
