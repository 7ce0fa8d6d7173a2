@shop @silence
Feature: A planned storefront maintenance is silenced, and only while the silence lasts

  Background:
    Given the stack is running

  Scenario: the silence holds the storefront team's page until it is removed
    When a silence for service="storefront" is created by "ana" for 2 hours with comment "CHG-1042 storefront deploy"
    And the service "storefront" is stopped
    Then the alert "ShopServiceDown" with labels service=storefront fires within 2 minutes
    And "ShopServiceDown" is silenced within 3 minutes
    And "storefront-team" is never notified of "ShopServiceDown" within 3 minutes
    When the silence for service="storefront" is removed
    Then "storefront-team" is notified of "ShopServiceDown" within 6 minutes
