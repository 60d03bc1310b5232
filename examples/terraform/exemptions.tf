variable "subscription_id" {
  type    = string
  default = "00000000-0000-0000-0000-000000000001"
}

variable "waivers" {
  type = map(object({ expires_on = string, description = string }))
  default = {
    "rg-sandbox" = { expires_on = "2027-03-31T00:00:00Z", description = "Sandbox holds no production data; rebuilt monthly (SEC-301)." }
    "rg-legacy"  = { expires_on = "2029-01-01T00:00:00Z", description = "Legacy" }
  }
}

resource "azurerm_resource_group_policy_exemption" "waiver" {
  for_each                        = var.waivers
  name                            = "waiver-${each.key}"
  resource_group_id               = "/subscriptions/${var.subscription_id}/resourceGroups/${each.key}"
  policy_assignment_id            = "/subscriptions/${var.subscription_id}/providers/Microsoft.Authorization/policyAssignments/SecurityCenterBuiltIn"
  policy_definition_reference_ids = ["webAppEnforceHttpsMonitoring"]
  exemption_category              = "Waiver"
  expires_on                      = each.value.expires_on
  display_name                    = "Waiver for ${each.key}"
  description                     = each.value.description
  metadata = jsonencode({
    requestedBy = "app-team"
    ticketRef   = "SEC-301"
  })
}
