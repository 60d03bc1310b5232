// One exemption at resource-group scope.
param name string
param assignmentId string
param category string
param expiresOn string
param references array
param description string

resource exemption 'Microsoft.Authorization/policyExemptions@2022-07-01-preview' = {
  name: name
  properties: {
    policyAssignmentId: assignmentId
    policyDefinitionReferenceIds: references
    exemptionCategory: category
    expiresOn: expiresOn
    displayName: 'Exemption ${name}'
    description: description
  }
}
