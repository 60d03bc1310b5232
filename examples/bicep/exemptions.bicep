// Subscription-level exemptions, one per entry of a parameter (the ALZ/AVM style).
targetScope = 'subscription'

@description('Exemptions to deploy, reviewed by the platform team.')
param exemptions array = [
  {
    name: 'legacy-vm-backup'
    resourceGroup: 'rg-legacy'
    category: 'Mitigated'
    expiresOn: '2027-02-28T23:59:59Z'
    references: ['azureBackupShouldBeEnabledForVirtualMachinesMonitoringEffect']
    description: 'Backed up nightly by the third-party agent (Veeam, CHG-3001).'
  }
  {
    name: 'lab-https'
    resourceGroup: 'rg-lab'
    category: 'Waiver'
    expiresOn: '2028-01-01T00:00:00Z'
    references: ['webAppEnforceHttpsMonitoring']
    description: 'Lab'
  }
]

var mcsbAssignmentId = subscriptionResourceId('Microsoft.Authorization/policyAssignments', 'SecurityCenterBuiltIn')

module perGroup 'modules/exemption.bicep' = [for exemption in exemptions: {
  name: 'exemption-${exemption.name}'
  scope: resourceGroup(exemption.resourceGroup)
  params: {
    name: exemption.name
    assignmentId: mcsbAssignmentId
    category: exemption.category
    expiresOn: exemption.expiresOn
    references: exemption.references
    description: exemption.description
  }
}]
