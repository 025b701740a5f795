console.log('pdm: not yet');
